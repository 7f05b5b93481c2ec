package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/egov-vn/gateway/connectors/postal"
	"github.com/egov-vn/gateway/connectors/postal/address"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/events"
	"github.com/egov-vn/gateway/internal/sandboxes"
	"github.com/egov-vn/gateway/routing"
)

// newPostal is the postal scenario: delivery requests in, orders at VNPost (the MyVNPost
// sandbox) out (the common runner is described in flow.go).
//
// Every event is a vn.gov.delivery.requested of a dossier of its own: three in four deliver a
// result to the citizen, one in four has the post collect a dossier (with the pickup add-on),
// one in three carries a COD amount, the recipients spread over communes of Lạng Sơn. Both
// phases make the two MyVNPost calls of a first create (the look-up of the order number, then
// the create), with the order built the same way (the same order number, the GSO codes mapped
// to postal codes with connectors/postal/address); an event's effect is its order at the
// sandbox. The gateway also records the shipment in the dossier's timeline and tells the
// one-stop system of the order's first status (delivery.status_changed), as it does in
// production; the baseline does neither.
func newPostal() *scenario {
	return newFlow("postal", "postal delivery end to end: a minimal XADD→XREADGROUP→MyVNPost→XACK pipeline, then the gateway", postalFlow{})
}

// postalFlow is the delivery request flow.
type postalFlow struct{}

func (postalFlow) register(*flag.FlagSet)   {}
func (postalFlow) check(*flowOptions) error { return nil }
func (postalFlow) describe(o *flowOptions) string {
	return fmt.Sprintf("%d delivery requests", o.events)
}

func (postalFlow) newGen(tag string, _ *flowOptions) flowGen { return newDeliveryGen("p" + tag) }

func (postalFlow) newBaseline(ctx context.Context, sandboxURL string, conns int) (func(context.Context, []byte) error, error) {
	p, err := newMiniPost(ctx, sandboxURL+"/sandbox/vnpost/myvnpost", conns)
	if err != nil {
		return nil, err
	}
	return p.deliver, nil
}

func (postalFlow) configure(cfg *config.Config, sandboxURL string) {
	cfg.Postal.Dialect = config.PostalMyVNPost
	cfg.Postal.BaseURL = sandboxURL + "/sandbox/vnpost/myvnpost"
}

func (postalFlow) parked() (string, string) {
	return routing.PartnerPostal, routing.TopicDeliveryRequested
}

func (postalFlow) delivered(sb *sandboxes.Set) int { return sb.VNPost.Created() }

func (postalFlow) setHook(sb *sandboxes.Set, fn func(string, int)) {
	if fn == nil {
		sb.VNPost.SetCreateHook(nil)
		return
	}
	sb.VNPost.SetCreateHook(func(number string) { fn(number, 1) })
}

// deliveryCommunes are GSO commune codes of Lạng Sơn the recipients spread over.
var deliveryCommunes = []string{"05977", "05983", "05986", "06001", "06004"}

// deliveryGen generates vn.gov.delivery.requested events, event n for dossier prefix+n.
type deliveryGen struct {
	prefix string // dossier codes are prefix + the event's number
	sentAt string
}

func newDeliveryGen(tag string) *deliveryGen {
	return &deliveryGen{prefix: "LG" + tag + "-", sentAt: time.Now().UTC().Format(time.RFC3339)}
}

// kindOf is event n's shipment kind: one in four collects a dossier.
func kindOf(n uint64) postal.Kind {
	if n%4 == 3 {
		return postal.KindCollectDossier
	}
	return postal.KindDeliverResult
}

// bodyOf is delivery request n.
func (g *deliveryGen) bodyOf(n uint64) []byte {
	code := g.prefix + strconv.FormatUint(n, 10)
	service := postal.ServiceEconomy
	if n%2 == 1 {
		service = postal.ServiceExpress
	}
	b := make([]byte, 0, 640)
	b = append(b, `{"specversion":"1.0","id":"lg-`...)
	b = append(b, code...)
	b = append(b, `","source":"/onestop/loadgen","type":"`+events.TypeDeliveryRequested+`","subject":"`...)
	b = append(b, code...)
	b = append(b, `","time":"`...)
	b = append(b, g.sentAt...)
	b = append(b, `","datacontenttype":"application/json","data":{"dossier_code":"`...)
	b = append(b, code...)
	b = append(b, `","kind":"`...)
	b = append(b, kindOf(n)...)
	b = append(b, `","service":"`...)
	b = append(b, service...)
	b = append(b, `","weight_grams":`...)
	b = strconv.AppendUint(b, 200+n%7*150, 10)
	if n%3 == 0 {
		b = append(b, `,"cod_amount":50000`...)
	}
	b = append(b, `,"note":"Giao trong gio hanh chinh","recipient":{"name":"Nguyen Van A","phone":"0912345678","address":"So 12 duong Tran Dang Ninh","province_code":"20","commune_code":"`...)
	b = append(b, deliveryCommunes[n%uint64(len(deliveryCommunes))]...)
	return append(b, `"}}}`...)
}

// eventOf reads the event's number back from its order number (dossier code and kind suffix).
func (g *deliveryGen) eventOf(number string, nth int) (uint64, bool) {
	rest, ok := strings.CutPrefix(number, g.prefix)
	digits, _, cut := strings.Cut(rest, "-")
	if !ok || !cut || nth != 1 {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return n, err == nil && routing.OrderNumber(g.prefix+digits, kindOf(n)) == number
}

// miniPost is the baseline's hand-written MyVNPost client: one login, then a look-up and a create
// per request.
type miniPost struct {
	client   *http.Client
	url      string
	token    string
	resolver *address.Resolver
	agency   config.PostalAgency
	codes    address.Codes // the agency's
}

func newMiniPost(ctx context.Context, url string, conns int) (*miniPost, error) {
	resolver, err := address.Default()
	if err != nil {
		return nil, err
	}
	agency := config.DevProfile().Postal.Agency
	codes, err := resolver.Resolve(address.Query{Province: agency.ProvinceCode, Commune: agency.CommuneCode, District: agency.DistrictCode})
	if err != nil {
		return nil, fmt.Errorf("the agency's address: %w", err)
	}
	p := &miniPost{url: url, resolver: resolver, agency: agency, codes: codes, client: &http.Client{Timeout: requestTimeout,
		Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, IdleConnTimeout: 90 * time.Second}}}
	body, _ := json.Marshal(map[string]string{"username": config.DemoVNPostUser, "password": config.DemoVNPostPassword})
	var reply struct {
		Token string `json:"token"`
	}
	if status, raw, err := p.do(ctx, http.MethodPost, "/api/auth/login", body); err != nil || status != http.StatusOK || json.Unmarshal(raw, &reply) != nil || reply.Token == "" {
		return nil, fmt.Errorf("logging in to the MyVNPost sandbox: status %d, %v", status, err)
	}
	p.token = reply.Token
	return p, nil
}

func (p *miniPost) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, p.url+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if p.token != "" {
		req.Header.Set("token", p.token)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// mvParty is one side of a MyVNPost order, its fields named as the wire's without their
// sender/receiver prefix.
type mvParty struct{ name, phone, address, province, district, commune string }

// deliver looks the request's order up and creates it.
func (p *miniPost) deliver(ctx context.Context, event []byte) error {
	var ev struct {
		Data struct {
			DossierCode string `json:"dossier_code"`
			Kind        string `json:"kind"`
			Service     string `json:"service"`
			WeightGrams int    `json:"weight_grams"`
			CODAmount   int64  `json:"cod_amount"`
			Note        string `json:"note"`
			Recipient   struct {
				Name         string `json:"name"`
				Phone        string `json:"phone"`
				Address      string `json:"address"`
				ProvinceCode string `json:"province_code"`
				CommuneCode  string `json:"commune_code"`
				DistrictCode string `json:"district_code"`
			} `json:"recipient"`
		} `json:"data"`
	}
	if err := json.Unmarshal(event, &ev); err != nil {
		return fmt.Errorf("decoding event: %w", err)
	}
	d, rc := ev.Data, ev.Data.Recipient
	codes, err := p.resolver.Resolve(address.Query{Province: rc.ProvinceCode, Commune: rc.CommuneCode, District: rc.DistrictCode})
	if err != nil {
		return err
	}
	kind := postal.Kind(d.Kind)
	number := routing.OrderNumber(d.DossierCode, kind)
	status, _, err := p.do(ctx, http.MethodGet, "/api/orders/"+number, nil)
	switch {
	case err != nil:
		return err
	case status == http.StatusOK:
		return nil // created before
	case status != http.StatusNotFound:
		return fmt.Errorf("looking up order: status %d", status)
	}
	from := mvParty{p.agency.Name, p.agency.Phone, p.agency.Address, p.codes.PostalProvince, p.codes.PostalArea, p.codes.Commune}
	to := mvParty{rc.Name, rc.Phone, rc.Address, codes.PostalProvince, codes.PostalArea, codes.Commune}
	addons := []map[string]string{}
	if d.CODAmount > 0 {
		addons = append(addons, map[string]string{"code": postal.AddonCOD, "propValue": strconv.FormatInt(d.CODAmount, 10)})
	}
	if kind == postal.KindCollectDossier {
		from, to = to, from
		addons = append(addons, map[string]string{"code": postal.AddonPickup, "propValue": "1"})
	}
	body, _ := json.Marshal(map[string]any{"orderCreationStatus": 1, "informationOrder": map[string]any{
		"orderNumber": number, "serviceCode": d.Service, "weight": d.WeightGrams, "contentNote": d.Note, "addonService": addons,
		"senderName": from.name, "senderPhone": from.phone, "senderAddress": from.address,
		"senderProvinceCode": from.province, "senderDistrictCode": from.district, "senderCommuneCode": from.commune,
		"receiverName": to.name, "receiverPhone": to.phone, "receiverAddress": to.address,
		"receiverProvinceCode": to.province, "receiverDistrictCode": to.district, "receiverCommuneCode": to.commune,
	}})
	status, raw, err := p.do(ctx, http.MethodPost, "/api/orders", body)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("creating order: status %d: %.200s", status, raw)
	}
	return nil
}
