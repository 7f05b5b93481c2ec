package dialect

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/connectors/postal/address"
	"github.com/egov-vn/gateway/internal/failure"
)

func order() postal.Order {
	return postal.Order{Number: "000.00.37.H37-251126-0001-R", Kind: postal.KindDeliverResult,
		Sender:   postal.Party{Name: "UBND", Phone: "0205381234", Address: "Số 1", ProvinceCode: "20", CommuneCode: "05977"},
		Receiver: postal.Party{Name: "Lê Văn Bình", Phone: "84987654321", Address: "Thôn Nà Sla", ProvinceCode: "20", CommuneCode: "06613"}}
}

func TestPrepareDefaultsAndResolves(t *testing.T) {
	t.Parallel()
	r, _ := address.Default()
	p, err := Prepare(order(), r)
	if err != nil {
		t.Fatal(err)
	}
	if p.Service != postal.ServiceEconomy || p.WeightGrams != DefaultWeightGrams || p.To.Phone != "0987654321" ||
		p.To.Codes.PostalArea != "2560" || p.From.Codes.PostalArea != "2510" {
		t.Fatalf("prepared = %+v", p)
	}
}

func TestPrepareRefusesWithoutQuotingPersonalData(t *testing.T) {
	t.Parallel()
	r, _ := address.Default()
	for name, change := range map[string]func(o *postal.Order){
		"no number":         func(o *postal.Order) { o.Number = "" },
		"slash in number":   func(o *postal.Order) { o.Number = "a/b" },
		"long number":       func(o *postal.Order) { o.Number = strings.Repeat("a", 65) },
		"bad kind":          func(o *postal.Order) { o.Kind = "return" },
		"bad service":       func(o *postal.Order) { o.Service = "VCN" },
		"negative weight":   func(o *postal.Order) { o.WeightGrams = -1 },
		"heavy":             func(o *postal.Order) { o.WeightGrams = 30001 },
		"negative COD":      func(o *postal.Order) { o.CODAmount = -1 },
		"empty name":        func(o *postal.Order) { o.Receiver.Name = "  " },
		"control in addr":   func(o *postal.Order) { o.Receiver.Address = "Thôn\x00Nà Sla" },
		"invalid UTF-8":     func(o *postal.Order) { o.Receiver.Name = "L\xffê" },
		"long address":      func(o *postal.Order) { o.Receiver.Address = strings.Repeat("x", 251) },
		"control in note":   func(o *postal.Order) { o.Note = "a\x1bb" },
		"bad phone":         func(o *postal.Order) { o.Receiver.Phone = "987654321" },
		"unknown commune":   func(o *postal.Order) { o.Receiver.CommuneCode = "99999" },
		"malformed commune": func(o *postal.Order) { o.Receiver.CommuneCode = "6613" },
	} {
		o := order()
		change(&o)
		_, err := Prepare(o, r)
		if !failure.IsPermanent(err) || !(errors.Is(err, postal.ErrInvalidOrder) || errors.Is(err, postal.ErrNoMapping)) {
			t.Errorf("%s: %v, want a permanent ErrInvalidOrder or ErrNoMapping", name, err)
			continue
		}
		for _, pd := range []string{"Lê Văn Bình", "987654321", "Nà Sla"} {
			if strings.Contains(err.Error(), pd) {
				t.Errorf("%s: error quotes personal data: %v", name, err)
			}
		}
	}
	// Every problem is reported at once.
	o := order()
	o.Receiver.Phone, o.Sender.Name = "1", ""
	if _, err := Prepare(o, r); err == nil || !strings.Contains(err.Error(), "receiver phone") || !strings.Contains(err.Error(), "sender name") {
		t.Fatalf("two problems: %v, want both named", err)
	}
	if _, err := Prepare(order(), nil); err == nil {
		t.Fatal("nil resolver accepted")
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	status := func(code int) error {
		return fmt.Errorf("calling: %w", &failure.StatusError{Partner: "vnpost", Operation: "create_order", StatusCode: code})
	}
	if err := Classify(status(401)); !errors.Is(err, ErrAuth) || failure.IsPermanent(err) {
		t.Errorf("401 → %v, want ErrAuth, transient", err)
	}
	for _, code := range []int{400, 403, 422} {
		if err := Classify(status(code)); !errors.Is(err, postal.ErrRejected) || !failure.IsPermanent(err) {
			t.Errorf("%d → %v, want a permanent ErrRejected", code, err)
		}
	}
	for _, code := range []int{404, 408, 409, 429, 500, 502, 503} {
		if err := Classify(status(code)); errors.Is(err, postal.ErrRejected) || failure.IsPermanent(err) {
			t.Errorf("%d → %v, want transient", code, err)
		}
	}
	if Classify(nil) != nil || Status(errors.New("x")) != 0 || Status(status(418)) != 418 {
		t.Error("nil or plain errors misread")
	}
}
