// Package paygov holds the wire-level primitives of the national payment platform (PayGov,
// reached through an intermediary such as KeyPay), transaction API version 3.0, as the
// provincial one-stop systems built on OpenCPS call it (the platform's own specification is
// not public):
//
//   - Checksum and VerifyChecksum: lowercase hex HMAC-SHA256 over
//     addition_fee|client_id|command|trans_amount|transaction_id|version, keyed with key 1 for
//     requests the gateway sends and key 2 for the confirmation callback it receives;
//   - the wire structs (dto.go) of create transaction, payment confirmation and bill look-up,
//     in the platform's field names.
//
// The dialect is built on them: Client (client.go) implements bank.Provider (create transaction
// through the partner HTTP client with a timeout; the detail query, whose wire format is
// [assumed], detail.go), ConfirmHandler answers the confirmation callback and BillHandler the
// bill look-up (callback.go). Amounts are whole VND; on the wire they are decimal strings.
package paygov
