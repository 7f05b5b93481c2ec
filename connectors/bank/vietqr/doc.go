// Package vietqr builds and reads VietQR payloads: NAPAS 247 bank-transfer QR codes in the
// EMVCo QR Code Specification for Payment Systems, merchant-presented mode (EMV QRCPS-MPM
// v1.1), with NAPAS's account information template in field 38 (GUID A000000727, service
// QRIBFTTA to an account or QRIBFTTC to a card) and the additional data of field 62, as in
// NAPAS's published VietQR specification and examples (the layout of domain.md §4).
//
// It offers the pieces separately, all pure and safe on any input:
//
//   - EncodeTLV and DecodeTLV: the EMVCo id-length-value framing;
//   - CRC16CCITTFalse: the checksum of field 63;
//   - Build and Parse: a Payload (bank BIN, account, amount, bill number, purpose) to and from
//     the QR string, static (no amount) or dynamic (with amount);
//   - Banks and BankByBIN: the BINs of the banks the province deals with.
//
// A VietQR transfer has no callback of its own: it is matched later on amount and the
// reference carried in the bill number (62-01) or purpose (62-08). The dialect: Provider
// (provider.go) implements bank.Provider with a dynamic payload per payment (the reference in
// the purpose), and NotificationHandler (notification.go) receives a bank's signed
// account-movement notifications and matches credits to payments.
package vietqr
