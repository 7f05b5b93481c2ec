package paygov

// The transaction detail query. The platform's specification is not public and OpenCPS only
// names a "detail transaction" endpoint without showing its body, so everything in this file is
// [assumed]: it follows the create transaction's conventions (the same six-field checksum, key 1
// on requests, key 2 on what the platform signs), so that a province only has to adjust field
// names once it holds the real contract.

// CommandDetail is the command of a detail query. [assumed]
const CommandDetail = "DETAIL"

// Detail answer codes (error) and transaction statuses (data.status). [assumed]
const (
	DetailOK       = "0"
	DetailNotFound = "1"

	DetailStatusPaid    = "0"
	DetailStatusPending = "1"
	DetailStatusFailed  = "2"
)

// DetailRequest asks the platform about one transaction. Its check_sum is the six-field
// checksum under key 1 with addition_fee and trans_amount empty (the query does not carry them).
type DetailRequest struct {
	ClientID      string `json:"client_id"`
	TransactionID string `json:"transaction_id"`
	Command       string `json:"command"`
	Version       string `json:"version"`
	CheckSum      string `json:"check_sum"`
}

// Sign sets r.CheckSum with key 1.
func (r *DetailRequest) Sign(key1 string) {
	r.CheckSum = Checksum(key1, "", r.ClientID, r.Command, "", r.TransactionID, r.Version)
}

// VerifyChecksum reports whether r.CheckSum is valid under key 1 (the sandbox checks with it).
func (r DetailRequest) VerifyChecksum(key1 string) bool {
	return VerifyChecksum(key1, r.CheckSum, "", r.ClientID, r.Command, "", r.TransactionID, r.Version)
}

// DetailReply is the platform's answer; Data is set when Error is DetailOK.
type DetailReply struct {
	Error    Text        `json:"error"`
	Msg      string      `json:"msg"`
	Data     *DetailData `json:"data,omitempty"`
	CheckSum Text        `json:"check_sum"`
}

// DetailData is the transaction as the platform holds it.
type DetailData struct {
	TransactionID   Text `json:"transaction_id"`
	TransactionCode Text `json:"transaction_code"`
	TransAmount     Text `json:"trans_amount"`
	AdditionFee     Text `json:"addition_fee"`
	Status          Text `json:"status"`
	// PaidAt is yyyyMMddHHmmss in Vietnam's time, when paid.
	PaidAt string `json:"paid_at,omitempty"`
}

// Sign sets r.CheckSum under key 2 over the data's six fields (the sandbox signs with it).
func (r *DetailReply) Sign(key2, clientID, version string) {
	if r.Data == nil {
		return
	}
	r.CheckSum = Text(Checksum(key2, string(r.Data.AdditionFee), clientID, CommandDetail,
		string(r.Data.TransAmount), string(r.Data.TransactionID), version))
}

// Verify reports whether a found transaction's answer carries a valid check_sum under key 2.
func (r DetailReply) Verify(key2, clientID, version string) bool {
	if r.Data == nil {
		return false
	}
	return VerifyChecksum(key2, string(r.CheckSum), string(r.Data.AdditionFee), clientID, CommandDetail,
		string(r.Data.TransAmount), string(r.Data.TransactionID), version)
}
