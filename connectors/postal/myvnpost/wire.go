package myvnpost

// Wire structs keep the partner's field names.

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type loginReply struct {
	Token     string `json:"token"`
	ExpiresIn int64  `json:"expiresIn"`
}

type addon struct {
	Code      string `json:"code"`
	PropValue string `json:"propValue"`
}

type informationOrder struct {
	OrderNumber          string  `json:"orderNumber"`
	SenderName           string  `json:"senderName"`
	SenderPhone          string  `json:"senderPhone"`
	SenderAddress        string  `json:"senderAddress"`
	SenderProvinceCode   string  `json:"senderProvinceCode"`
	SenderDistrictCode   string  `json:"senderDistrictCode"`
	SenderCommuneCode    string  `json:"senderCommuneCode"`
	ReceiverName         string  `json:"receiverName"`
	ReceiverPhone        string  `json:"receiverPhone"`
	ReceiverAddress      string  `json:"receiverAddress"`
	ReceiverProvinceCode string  `json:"receiverProvinceCode"`
	ReceiverDistrictCode string  `json:"receiverDistrictCode"`
	ReceiverCommuneCode  string  `json:"receiverCommuneCode"`
	ServiceCode          string  `json:"serviceCode"`
	Weight               int     `json:"weight"`
	ContentNote          string  `json:"contentNote,omitempty"`
	AddonService         []addon `json:"addonService"`
}

// Order creation status.
const (
	creationDraft   = 0
	creationPending = 1
)

type createRequest struct {
	OrderCreationStatus int              `json:"orderCreationStatus"`
	InformationOrder    informationOrder `json:"informationOrder"`
}

// orderReply answers a create and a look-up.
type orderReply struct {
	OrderNumber string `json:"orderNumber,omitempty"`
	OriginalID  string `json:"originalID"`
	TotalFee    *int64 `json:"totalFee"`
	Status      *int   `json:"status"`
}

type trackingItem struct {
	ID             int64  `json:"id"`
	OrderNumber    string `json:"orderNumber"`
	OriginalID     string `json:"originalID"`
	Status         int    `json:"status"`
	StatusName     string `json:"statusName"`
	Time           string `json:"time"`
	PostOfficeCode string `json:"postOfficeCode"`
}

type trackingReply struct {
	Items []trackingItem `json:"items"`
}

type cancelReply struct {
	Status *int `json:"status"`
}
