// Package vnpay holds the wire-level primitives of the VNPay payment gateway, API version 2.1.0,
// as published in VNPay's merchant integration documentation (payment URL, IPN, querydr):
//
//   - Sign and Verify: HMAC-SHA512 over the sorted, form-encoded vnp_* parameters;
//   - PaymentURL: the signed redirect URL for vnp_Command=pay, with every field validated;
//   - ParseIPN and IPNReply: the GET callback VNPay sends to the merchant's IPN URL, and the
//     {"RspCode","Message"} answer it expects;
//   - QueryDR: signing of the transaction status query (vnp_Command=querydr) and
//     verification of its answer.
//
// Those primitives are pure (no I/O, no clock). The dialect is built on them: Client
// (client.go) implements bank.Provider (the payment URL; querydr through the partner HTTP
// client), and IPNHandler (ipn.go) answers the IPN in VNPay's order of checks, handing the
// verified result to a bank.Settler. Amounts are whole VND (int64); the wire carries VND × 100, and only this
// package converts. Dates on the wire are yyyyMMddHHmmss in GMT+7.
package vnpay
