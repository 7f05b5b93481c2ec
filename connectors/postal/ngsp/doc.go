// Package ngsp is the MITC "NGSP" VNPost API dialect of connectors/postal (the generation
// OpenCPS uses).
//
// What is documented (domain reference §5): OAuth2 client credentials (grant_type=
// client_credentials, HTTP Basic auth) answered {access_token, token_type, expires_in}; the
// create order JSON in PascalCase: CustomerCode, OrderNumber, CODAmount,
// Sender{Name,Address,Tel,Province,District}, Receiver{...}, Description, with the dossier model's
// IsSendDocument (collect the dossier from the citizen) and IsReceiveResult (deliver the result);
// the reply {Status, Message}; tracking polled with ?CustomerCode&pagesize&lastId, records
// {OrderNumber, ItemCode, StatusCode, StatusMessage, EventTime, POSID}; cancel by order number.
//
// [assumed] Everything else, until the province's contract gives the exact wire:
//
//	POST {base}/oauth/token            form grant_type=client_credentials, Basic client id:secret
//	header "Authorization: Bearer"     on every other call; HTTP 401 when missing or expired
//	POST {base}/api/Order/Create       the order → {Status, Message, ItemCode}
//	GET  {base}/api/Order/Get?CustomerCode&OrderNumber
//	                                   {Status, Message, Data{OrderNumber, ItemCode, StatusCode}}
//	GET  {base}/api/Order/Tracking?CustomerCode&pagesize&lastId
//	                                   a JSON array of records, each with an increasing Id (the
//	                                   lastId cursor) besides the documented fields
//	POST {base}/api/Order/Cancel       {CustomerCode, OrderNumber} → {Status, Message}
//
//	Status   1 success, 2 the order number exists, 3 invalid data, 4 order not found,
//	         5 the order can no longer be cancelled
//	StatusCode (tracking) "00".."12" → postal.Status 0, 1, 4, 5, 6, 7, 10, 12, 14, 15, 18, 19, 22
//	EventTime "dd/MM/yyyy HH:mm:ss" in Asia/Ho_Chi_Minh
//	Province and District carry the postal province prefix ("25") and the 4-digit postal code of
//	the area ("2510"); ServiceCode and Weight (grams) are added to the documented create fields.
//
// Idempotency: the order number is the key. CreateOrder first looks the order up and returns it
// (AlreadyHad) when it exists; Status 2 on a create (a concurrent create won) is resolved by
// looking it up again. COD travels as CODAmount (whole VND); a collection sets IsSendDocument, a
// result delivery IsReceiveResult.
//
// Errors: an order that fails the checks is refused before any call, permanent, wrapping
// postal.ErrInvalidOrder or postal.ErrNoMapping; Status 3 and HTTP 4xx other than 401 wrap
// postal.ErrRejected (permanent); HTTP 401 renews the token and repeats the call once; 5xx,
// timeouts and dropped connections are transient. Errors never carry the partner's Message.
package ngsp
