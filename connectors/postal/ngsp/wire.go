package ngsp

// Wire structs keep the partner's field names.

type tokenReply struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

type party struct {
	Name     string `json:"Name"`
	Address  string `json:"Address"`
	Tel      string `json:"Tel"`
	Province string `json:"Province"`
	District string `json:"District"`
}

type createRequest struct {
	CustomerCode    string `json:"CustomerCode"`
	OrderNumber     string `json:"OrderNumber"`
	CODAmount       int64  `json:"CODAmount"`
	Sender          party  `json:"Sender"`
	Receiver        party  `json:"Receiver"`
	Description     string `json:"Description"`
	ServiceCode     string `json:"ServiceCode"`
	Weight          int    `json:"Weight"`
	IsSendDocument  bool   `json:"IsSendDocument"`
	IsReceiveResult bool   `json:"IsReceiveResult"`
}

// reply is every answer but the tracking list.
type reply struct {
	Status   *int      `json:"Status"`
	Message  string    `json:"Message"`
	ItemCode string    `json:"ItemCode"`
	Data     *orderDTO `json:"Data"`
}

type orderDTO struct {
	OrderNumber string `json:"OrderNumber"`
	ItemCode    string `json:"ItemCode"`
	StatusCode  string `json:"StatusCode"`
}

type cancelRequest struct {
	CustomerCode string `json:"CustomerCode"`
	OrderNumber  string `json:"OrderNumber"`
}

type record struct {
	ID            int64  `json:"Id"`
	OrderNumber   string `json:"OrderNumber"`
	ItemCode      string `json:"ItemCode"`
	StatusCode    string `json:"StatusCode"`
	StatusMessage string `json:"StatusMessage"`
	EventTime     string `json:"EventTime"`
	POSID         string `json:"POSID"`
}

// Reply Status values [assumed].
const (
	statusOK             = 1
	statusExists         = 2
	statusInvalid        = 3
	statusNotFound       = 4
	statusNotCancellable = 5
)

// timeLayout is EventTime's layout, Asia/Ho_Chi_Minh [assumed].
const timeLayout = "02/01/2006 15:04:05"
