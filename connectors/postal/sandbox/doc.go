// Package sandbox is a fake VNPost speaking both postal dialects' wire formats (see
// connectors/postal/myvnpost and connectors/postal/ngsp, whose documentation says which parts are
// [assumed]): the contract suite runs every dialect against it, the dev profile mounts it at
// /sandbox/vnpost/, and partnersim serves it standalone.
//
// Paths are relative to the mount point (mount it with http.StripPrefix):
//
//	MyVNPost (token header "token"):
//	POST /myvnpost/api/auth/login               {username, password} → {token, expiresIn}
//	POST /myvnpost/api/orders                   create → {originalID, totalFee, status}; 409 when
//	                                            the order number exists; 400 invalid
//	GET  /myvnpost/api/orders/{number}          the order, or 404
//	GET  /myvnpost/api/tracking?lastId&pageSize {items: [...]} after lastId, in id order
//	POST /myvnpost/api/orders/{number}/cancel   → {status: 22}; 404; 400 when final
//	NGSP (OAuth2 client credentials, "Authorization: Bearer"):
//	POST /ngsp/oauth/token                      Basic auth, grant_type=client_credentials →
//	                                            {access_token, token_type, expires_in}
//	POST /ngsp/api/Order/Create                 → {Status, Message, ItemCode}
//	GET  /ngsp/api/Order/Get?CustomerCode&OrderNumber
//	GET  /ngsp/api/Order/Tracking?CustomerCode&pagesize&lastId   [{Id, OrderNumber, ItemCode,
//	                                            StatusCode, StatusMessage, EventTime, POSID}]
//	POST /ngsp/api/Order/Cancel                 {CustomerCode, OrderNumber} → {Status, Message}
//	Inspection and control (no faults apply to them, no secrets in them):
//	GET  /orders                                every order received, with its status history
//	GET  /orders/{order}                        one order
//	POST /orders/{order}/advance                next status of the normal path 1→4→6→7→10→12→14
//	                                            (a MyVNPost draft, orderCreationStatus 0, goes to 1
//	                                            first), or {"status": N}; a tracking record for it
//	GET|PUT /faults                             internal/faults settings, on the partner paths
//	POST /tokens/expire                         invalidates every token of both dialects
//
// Tokens live Config.TokenTTL. An order belongs to the dialect that created it, and each dialect's
// tracking list shows the records of its own orders; record ids are shared, increasing. A second
// create with an existing number is refused (MyVNPost 409, NGSP Status 2), as the partner would.
// The Sandbox is safe for concurrent use.
package sandbox
