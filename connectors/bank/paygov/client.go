package paygov

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/internal/failure"
	"github.com/egov-vn/gateway/internal/partnerhttp"
	"github.com/egov-vn/gateway/internal/vntime"
)

// Operation names reported to partnerhttp (metrics, breakers): a closed set.
const (
	OpCreate = "create_transaction"
	OpDetail = "transaction_detail"
	// OpTransactions lists a day's transactions (reconciliation).
	OpTransactions = "transactions"
)

// Config is the gateway's account at the platform.
type Config struct {
	// ClientID is the platform's client_id; Key1 signs what the gateway sends, Key2 verifies what
	// the platform sends (both secrets).
	ClientID string
	Key1     string
	Key2     string
	// CreatePath and DetailPath are relative to the partner HTTP client's base URL.
	CreatePath string
	DetailPath string
	// TransactionsPath is the list of a day's transactions (GET ?date=yyyy-mm-dd), relative to
	// the base URL.
	TransactionsPath string
	// ReturnURL is where the platform sends the citizen back when the payment names none.
	ReturnURL string
	// Beneficiary is the collection account the platform pays into: TKThuHuong, MaNHThuHuong and
	// TenTKThuHuong of the bill.
	BeneficiaryAccount string
	BeneficiaryBank    string
	BeneficiaryName    string
	// AgencyName is TenDonVi of the bills (the province's agency collecting the fees).
	AgencyName string
	// CreateTimeout bounds one create call, so the citizen gets an answer within seconds.
	CreateTimeout time.Duration
}

func (c *Config) setDefaults() {
	if c.CreatePath == "" {
		c.CreatePath = "/transactions"
	}
	if c.DetailPath == "" {
		c.DetailPath = "/transactions/detail"
	}
	if c.TransactionsPath == "" {
		c.TransactionsPath = "/transactions"
	}
	if c.CreateTimeout == 0 {
		c.CreateTimeout = 3 * time.Second
	}
}

// Validate reports every problem of the settings at once; it never echoes a key.
func (c Config) Validate() error {
	var errs []error
	for _, f := range []struct{ name, value string }{
		{"client id", c.ClientID}, {"key 1", c.Key1}, {"key 2", c.Key2}, {"return URL", c.ReturnURL},
	} {
		if f.value == "" {
			errs = append(errs, fmt.Errorf("paygov: %s is empty", f.name))
		}
	}
	if c.CreateTimeout < 0 {
		errs = append(errs, errors.New("paygov: create timeout is negative"))
	}
	return errors.Join(errs...)
}

// Client is the PayGov dialect: create transaction, detail query, and (callback.go) the
// confirmation callback and the bill look-up. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *partnerhttp.Client
}

var _ bank.Provider = (*Client)(nil)

// New builds the dialect; every call to the platform goes through c.
func New(cfg Config, c *partnerhttp.Client) (*Client, error) {
	cfg.setDefaults()
	err := cfg.Validate()
	if c == nil {
		err = errors.Join(err, errors.New("paygov: partner HTTP client is nil"))
	}
	if err != nil {
		return nil, err
	}
	return &Client{cfg: cfg, http: c}, nil
}

// Name implements bank.Provider.
func (c *Client) Name() string { return bank.ProviderPayGov }

// Create implements bank.Provider: it creates the transaction at the platform (transaction_id is
// the payment reference) and returns the platform's payment URL. The call is bounded by
// CreateTimeout. A refusal (error other than "0", or a 4xx) wraps bank.ErrRejected and is
// permanent; an outage is transient.
func (c *Client) Create(ctx context.Context, p bank.Payment) (bank.Instructions, error) {
	req := c.createRequest(p)
	if err := req.Validate(); err != nil {
		return bank.Instructions{}, fmt.Errorf("creating paygov transaction %s: %w: %w", p.Reference, bank.ErrRejected, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.CreateTimeout)
	defer cancel()
	resp, err := c.http.Do(ctx, OpCreate, func(r *resty.Request) (*resty.Response, error) {
		return r.SetHeader("Content-Type", "application/json").SetBody(req).Post(c.cfg.CreatePath)
	})
	if err != nil {
		if failure.IsPermanent(err) {
			err = fmt.Errorf("%w: %w", bank.ErrRejected, err)
		}
		return bank.Instructions{}, fmt.Errorf("creating paygov transaction %s: %w", p.Reference, err)
	}
	var rep CreateTransactionReply
	if err := json.Unmarshal(resp.Body(), &rep); err != nil {
		return bank.Instructions{}, fmt.Errorf("creating paygov transaction %s: decoding the answer: %w", p.Reference, errMalformedAnswer)
	}
	if !rep.OK() {
		return bank.Instructions{}, fmt.Errorf("creating paygov transaction %s: %w: %w", p.Reference, bank.ErrRejected,
			&failure.ProtocolError{Partner: c.http.Partner(), Operation: OpCreate, Code: string(rep.Error)})
	}
	if rep.PaymentURL == "" {
		return bank.Instructions{}, fmt.Errorf("creating paygov transaction %s: no payment_url: %w", p.Reference, errMalformedAnswer)
	}
	return bank.Instructions{PaymentURL: rep.PaymentURL, ExpiresAt: p.ExpiresAt}, nil
}

func (c *Client) createRequest(p bank.Payment) CreateTransactionRequest {
	returnURL := p.ReturnURL
	if returnURL == "" {
		returnURL = c.cfg.ReturnURL
	}
	r := CreateTransactionRequest{
		ClientID: c.cfg.ClientID, TransactionID: p.Reference, TransAmount: FormatAmount(p.Amount),
		Command: CommandPay, Version: Version, Description: description(p), Locale: "vi",
		CurrencyCode: CurrencyVND, Environment: "1", ReturnURL: returnURL, AdditionFee: "0",
		BillInfo: c.Bill(p, p.CreatedAt, true),
	}
	r.Sign(c.cfg.Key1)
	return r
}

// Bill is the bill (bill_info, and the bill look-up's message) of a payment. withIdentity adds
// the payer's ID number and address, which the create call carries; the bill look-up answer
// leaves them out (the platform asks with nothing but a dossier code). [assumed] the platform
// shows a bill without them.
func (c *Client) Bill(p bank.Payment, lookupAt time.Time, withIdentity bool) BillInfo {
	b := BillInfo{
		MaDichVu: "2", MaHoSo: p.DossierCode, MaTTHC: p.ProcedureCode, MaDVC: p.ProcedureCode,
		MaDonVi: p.AgencyCode, TenDonVi: c.cfg.AgencyName,
		TKThuHuong: c.cfg.BeneficiaryAccount, MaNHThuHuong: c.cfg.BeneficiaryBank, TenTKThuHuong: c.cfg.BeneficiaryName,
		NoiDungThanhToan: description(p), HoTenNguoiNop: p.Payer.Name,
	}
	if withIdentity {
		b.SoCMNDNguoiNop, b.DiaChiNguoiNop = p.Payer.IDNumber, p.Payer.Address
	} else {
		b.TransactionID, b.ClientID, b.MaTraCuuTT = p.Reference, c.cfg.ClientID, LookupCode(p.DossierCode, lookupAt)
	}
	for _, f := range p.FeeLines {
		b.PhiLePhi = append(b.PhiLePhi, PhiLePhi{LoaiPhiLePhi: feeKind(f.Kind), MaPhiLePhi: Text(f.Code), TenPhiLePhi: f.Name, SoTien: f.Amount})
		b.DSKhoanNop = append(b.DSKhoanNop, KhoanNop{NoiDung: f.Name, SoTien: FormatAmount(f.Amount)})
	}
	return b
}

// feeKind maps our fee kinds to LoaiPhiLePhi: "1" phí, "2" lệ phí. [assumed] from OpenCPS, which
// sends "2" for lệ phí.
func feeKind(kind string) Text {
	if kind == bank.FeeKindCharge {
		return "1"
	}
	return "2"
}

func description(p bank.Payment) string {
	if p.Description != "" {
		return p.Description
	}
	return "Thanh toan le phi ho so " + p.DossierCode
}

// Query implements bank.Provider with the detail query. [assumed] wire format: see detail.go.
func (c *Client) Query(ctx context.Context, q bank.Query) (bank.Status, error) {
	req := DetailRequest{ClientID: c.cfg.ClientID, TransactionID: q.Reference, Command: CommandDetail, Version: Version}
	req.Sign(c.cfg.Key1)
	resp, err := c.http.Do(ctx, OpDetail, func(r *resty.Request) (*resty.Response, error) {
		return r.SetHeader("Content-Type", "application/json").SetBody(req).Post(c.cfg.DetailPath)
	})
	if err != nil {
		return bank.Status{}, fmt.Errorf("querying paygov transaction %s: %w", q.Reference, err)
	}
	var rep DetailReply
	if err := json.Unmarshal(resp.Body(), &rep); err != nil {
		return bank.Status{}, fmt.Errorf("querying paygov transaction %s: decoding the answer: %w", q.Reference, errMalformedAnswer)
	}
	switch rep.Error {
	case DetailOK:
	case DetailNotFound:
		return bank.Status{}, fmt.Errorf("querying paygov transaction %s: %w", q.Reference, bank.ErrNotFound)
	default:
		return bank.Status{}, fmt.Errorf("querying paygov transaction %s: %w", q.Reference,
			&failure.ProtocolError{Partner: c.http.Partner(), Operation: OpDetail, Code: string(rep.Error), Retryable: true})
	}
	if !rep.Verify(c.cfg.Key2, c.cfg.ClientID, Version) {
		return bank.Status{}, fmt.Errorf("querying paygov transaction %s: answer: %w", q.Reference, bank.ErrInvalidSignature)
	}
	if string(rep.Data.TransactionID) != q.Reference {
		return bank.Status{}, fmt.Errorf("querying paygov transaction %s: the answer is about another transaction: %w", q.Reference, errMalformedAnswer)
	}
	st := bank.Status{Outcome: bank.OutcomePending, ProviderTransactionID: string(rep.Data.TransactionCode),
		Code: "paygov status " + string(rep.Data.Status)}
	switch rep.Data.Status {
	case DetailStatusPaid:
		st.Outcome = bank.OutcomePaid
	case DetailStatusFailed:
		st.Outcome = bank.OutcomeFailed
	}
	if st.Outcome != bank.OutcomePending {
		amount, err := ParseAmount(string(rep.Data.TransAmount))
		if err != nil {
			return bank.Status{}, fmt.Errorf("querying paygov transaction %s: %w", q.Reference, err)
		}
		st.Amount = amount
	}
	if t, err := vntime.Parse(rep.Data.PaidAt); err == nil {
		st.PaidAt = t
	}
	return st, nil
}

// errMalformedAnswer is transient: the platform answering garbage is an outage, not a verdict.
var errMalformedAnswer = errors.New("malformed paygov answer")
