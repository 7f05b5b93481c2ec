// Package myvnpost is the MyVNPost partner API dialect of connectors/postal.
//
// What is documented (domain reference §5): a token passed in a header, CreateOrder with
// orderCreationStatus (0 draft, 1 pending pickup) and informationOrder{sender*, receiver*,
// province/district/commune codes, serviceCode, weight (grams), addonService[{code, propValue}]}
// answered {originalID, totalFee, status}; service codes CTN001/ETN011/ETN013; add-ons GTG021
// (COD, propValue the amount) and GTG026 (pickup at the sender's address); order statuses 0..22.
//
// [assumed] Everything else, until the province's contract gives the exact wire:
//
//	POST {base}/api/auth/login         {username, password} → {token, expiresIn (seconds)}
//	header "token: <token>"            on every other call; HTTP 401 when missing or expired
//	POST {base}/api/orders             {orderCreationStatus, informationOrder} → {originalID,
//	                                   totalFee, status}; 409 when the order number exists
//	GET  {base}/api/orders/{number}    the order: {orderNumber, originalID, totalFee, status}; 404
//	                                   {code: "NOT_FOUND"} when unknown (another 404 is a wrong
//	                                   base URL: transient)
//	GET  {base}/api/tracking?lastId=N&pageSize=M
//	                                   {items: [{id, orderNumber, originalID, status, statusName,
//	                                   time (yyyyMMddHHmmss, Asia/Ho_Chi_Minh), postOfficeCode}]}
//	                                   in increasing id; the cursor is the last id
//	POST {base}/api/orders/{number}/cancel
//	                                   → {status: 22}; 404 unknown; 400 when it can no longer be
//	                                   cancelled
//
// informationOrder carries the gateway's order number as orderNumber [assumed], the fields
// sender/receiver Name, Phone, Address, ProvinceCode (postal province prefix, "25"),
// DistrictCode (the 4-digit postal code of the area, "2510") and CommuneCode (the 5-digit GSO
// commune code, for want of a public postal commune code) [assumed], and contentNote.
//
// Idempotency: the order number is the key. CreateOrder first looks the order up by its number
// and returns it (AlreadyHad) when it exists; if a concurrent create wins the race the partner
// answers 409 and the dialect looks it up again. A collection (KindCollectDossier) adds GTG026;
// a COD amount adds GTG021 with the amount in whole VND.
//
// Errors: an order that fails the checks (phones, names, codes) is refused before any call,
// permanent, wrapping postal.ErrInvalidOrder or postal.ErrNoMapping. HTTP 401 renews the token and
// repeats the call once; other 4xx wrap postal.ErrRejected (permanent); 5xx, timeouts and dropped
// connections are transient. Errors never carry the partner's body (it may echo personal data).
package myvnpost
