'use strict';
// Cross-check harness for connectors/bank/crosscheck_test.go. It reads, on stdin, cases
// produced by the Go primitives (vnpay, vietqr, paygov) and answers, on stdout, with what
// independent implementations compute for the same inputs: the npm packages vnpay (VNPay
// 2.1.0 signing, payment URL, IPN verification, querydr) and vietnam-qr-pay (VietQR encode
// and decode), and Node's own crypto for PayGov's HMAC-SHA256. It judges nothing: the Go
// test compares. Its "gateway" section reads a running gateway's answers
// (crosscheck_gateway_test.go): the payment URL, an IPN the library signs for
// it, and the VietQR string.

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { VNPay, buildPaymentUrlSearchParams, calculateSecureHash } = require('vnpay');
const { QRPay, BanksObject } = require('vietnam-qr-pay');

function versionOf(pkg) {
  const file = path.join(__dirname, 'node_modules', pkg, 'package.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')).version;
}

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

// vnpaySign: the library's signed string and hash for the same parameters, and whether its
// IPN verification accepts the hash the Go side computed.
function vnpaySign(c) {
  const unsigned = { ...c.params };
  delete unsigned.vnp_SecureHash;
  const data = buildPaymentUrlSearchParams(unsigned).toString();
  const hash = calculateSecureHash({
    secureSecret: c.secret, data, hashAlgorithm: 'SHA512', bufferEncode: 'utf-8',
  });
  const vnpay = new VNPay({ tmnCode: c.params.vnp_TmnCode, secureSecret: c.secret });
  const verified = vnpay.verifyIpnCall({ ...unsigned, vnp_SecureHash: c.goHash });
  return { name: c.name, data, hash, verifiesGoHash: verified.isVerified === true };
}

// vnpayURL: the library's payment URL for the same (already cleaned) inputs.
function vnpayURL(c) {
  const vnpay = new VNPay({
    tmnCode: c.tmnCode, secureSecret: c.secret, vnpayHost: c.host, paymentEndpoint: c.endpoint,
  });
  const url = vnpay.buildPaymentUrl({
    vnp_Amount: c.amount,
    vnp_IpAddr: c.ipAddr,
    vnp_TxnRef: c.txnRef,
    vnp_OrderInfo: c.orderInfo,
    vnp_OrderType: c.orderType,
    vnp_ReturnUrl: c.returnUrl,
    vnp_Locale: c.locale,
    vnp_CreateDate: Number(c.createDate),
    vnp_ExpireDate: Number(c.expireDate),
    vnp_BankCode: c.bankCode || undefined,
  });
  return { name: c.name, url };
}

// vnpayQueryDR: the library's querydr hash, captured from the body it would POST, and whether
// it accepts the answer the Go side signed. fetch is replaced: nothing leaves the process.
async function vnpayQueryDR(c) {
  let body;
  globalThis.fetch = async (_url, init) => {
    body = JSON.parse(init.body);
    return { ok: true, status: 200, json: async () => c.response };
  };
  const vnpay = new VNPay({ tmnCode: c.tmnCode, secureSecret: c.secret });
  const result = await vnpay.queryDr({
    vnp_RequestId: c.query.vnp_RequestId,
    vnp_TxnRef: c.query.vnp_TxnRef,
    vnp_OrderInfo: c.query.vnp_OrderInfo,
    vnp_TransactionNo: c.query.vnp_TransactionNo,
    vnp_TransactionDate: c.query.vnp_TransactionDate,
    vnp_CreateDate: c.query.vnp_CreateDate,
    vnp_IpAddr: c.query.vnp_IpAddr,
  });
  return { name: c.name, secureHash: body.vnp_SecureHash, responseVerified: result.isVerified === true };
}

// vietqr: the library's encoding of the same payload, and its decoding of the Go string.
function vietqr(c) {
  const qr = QRPay.initVietQR({
    bankBin: c.bin,
    bankNumber: c.account,
    service: c.service || undefined,
    amount: c.amount > 0 ? String(c.amount) : undefined,
    purpose: c.purpose || undefined,
  });
  if (c.billNumber) {
    qr.additionalData.billNumber = c.billNumber;
  }
  const parsed = new QRPay(c.goString);
  return {
    name: c.name,
    built: qr.build(),
    parsed: {
      isValid: parsed.isValid,
      initMethod: parsed.initMethod || '',
      bin: parsed.consumer.bankBin || '',
      account: parsed.consumer.bankNumber || '',
      service: parsed.provider.service || '',
      amount: parsed.amount || '',
      currency: parsed.currency || '',
      nation: parsed.nation || '',
      billNumber: parsed.additionalData.billNumber || '',
      purpose: parsed.additionalData.purpose || '',
    },
  };
}

function bankName(bin) {
  const bank = Object.values(BanksObject).find((b) => b.bin === bin);
  return bank ? bank.shortName : '';
}

// gatewayURL: whether the library accepts a payment URL the running gateway answered, and what
// it reads from it.
function gatewayURL(c) {
  const vnpay = new VNPay({ tmnCode: c.tmnCode, secureSecret: c.secret });
  const query = Object.fromEntries(new URL(c.url).searchParams);
  const verified = vnpay.verifyReturnUrl(query);
  return {
    name: c.name, isVerified: verified.isVerified === true, amount: Number(verified.vnp_Amount),
    txnRef: verified.vnp_TxnRef || '', tmnCode: verified.vnp_TmnCode || '',
  };
}

// gatewayIPN: an IPN query string built and signed by the library, as VNPay would send it.
function gatewayIPN(c) {
  const data = buildPaymentUrlSearchParams(c.params).toString();
  const hash = calculateSecureHash({ secureSecret: c.secret, data, hashAlgorithm: 'SHA512', bufferEncode: 'utf-8' });
  return { name: c.name, query: `${data}&vnp_SecureHash=${hash}` };
}

// gatewayQR: what the library reads from a VietQR string the running gateway answered.
function gatewayQR(c) {
  const qr = new QRPay(c.qr);
  return {
    name: c.name, isValid: qr.isValid, bin: qr.consumer.bankBin || '', account: qr.consumer.bankNumber || '',
    amount: qr.amount || '', purpose: qr.additionalData.purpose || '', billNumber: qr.additionalData.billNumber || '',
  };
}

function paygov(c) {
  return { name: c.name, hash: crypto.createHmac('sha256', c.key).update(c.message, 'utf8').digest('hex') };
}

async function main() {
  const input = JSON.parse(await readStdin());
  const gw = input.gateway || {};
  const out = {
    versions: { node: process.versions.node, vnpay: versionOf('vnpay'), 'vietnam-qr-pay': versionOf('vietnam-qr-pay') },
    vnpaySign: (input.vnpaySign || []).map(vnpaySign),
    vnpayURL: (input.vnpayURL || []).map(vnpayURL),
    vnpayQueryDR: [],
    vietqr: (input.vietqr || []).map(vietqr),
    banks: Object.fromEntries((input.bins || []).map((bin) => [bin, bankName(bin)])),
    paygov: (input.paygov || []).map(paygov),
    gateway: {
      urls: (gw.urls || []).map(gatewayURL),
      ipns: (gw.ipns || []).map(gatewayIPN),
      qrs: (gw.qrs || []).map(gatewayQR),
    },
  };
  for (const c of input.vnpayQueryDR || []) {
    out.vnpayQueryDR.push(await vnpayQueryDR(c));
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(`crosscheck: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
