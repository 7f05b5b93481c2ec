package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/connectors/bank/vnpay"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/events"
	"github.com/egov-vn/gateway/internal/sandboxes"
)

// newMixed is the mixed scenario: the traffic of a province's working day at once, dossier
// status changes, VNPay IPNs and delivery requests interleaved in one stream of requests (the
// common runner is described in flow.go).
//
// The requests follow a repeating pattern of -mix weights, by default status=17,ipn=2,delivery=1
// out of every 20: a dossier passes through about four statuses (-versions 4: received, in
// process, done, returned), one in two pays a fee online, one in five has its result sent by
// post, which is 4 : 0.5 : 0.2 per dossier, or 17 : 2 : 1 in twenty requests. Each kind does what
// its own scenario does (sync, ipn, postal): a status change is synced to the portal (three DVCQG
// calls), a delivery request becomes a MyVNPost order (look-up, create), an IPN is the first valid
// IPN of a payment created before the phase (through POST /v1/payments; not timed), answered 00.
// The baseline pipeline does the same partner calls for the events, and sends each IPN to a bare
// handler making one Redis round trip (HSETNX), the ipn scenario's baseline. An event's effect is
// its step at the portal or its order at the post; an IPN's is its 00 answer. Beside them the
// gateway does what it does in production and the baseline does not: it tells the one-stop
// system of each payment and shipment, and sends each payment's state to the portal.
func newMixed() *scenario {
	return newFlow("mixed", "mixed traffic: status changes, IPNs and delivery requests interleaved, against minimal pipelines", &mixedFlow{})
}

// mixedFlow is the mixed traffic flow. Its fields are its flags, then what a phase sets up.
type mixedFlow struct {
	mixSpec  string
	versions int
	weights  [3]int // status, ipn, delivery, out of every sum(weights) requests

	// ipnURL is where the phase's IPNs go; pays their payments (signed queries); client sends
	// them, in both phases (its idle connections to the baseline's handler close with it).
	client  *loadClient
	ipnURL  string
	pays    []ipnPayment
	ipnDone atomic.Int64
	// onIPN is the effect hook, told of each IPN answered 00 (key "ipn-<n>").
	onIPN atomic.Pointer[func(string, int)]
}

// The kinds of request of the mix, as indexes of weights.
const (
	mixStatus = iota
	mixIPN
	mixDelivery
)

var mixNames = [...]string{"status", "ipn", "delivery"}

func (f *mixedFlow) register(fs *flag.FlagSet) {
	fs.StringVar(&f.mixSpec, "mix", "status=17,ipn=2,delivery=1", "requests of each kind in every sum(weights) requests: status changes, VNPay IPNs, delivery requests")
	fs.IntVar(&f.versions, "versions", 4, "status changes per dossier")
}

func (f *mixedFlow) check(o *flowOptions) error {
	var errs []error
	if f.versions < 1 || f.versions > 100 {
		errs = append(errs, fmt.Errorf("-versions %d is outside 1..100", f.versions))
	}
	f.weights = [3]int{}
	for _, part := range strings.Split(f.mixSpec, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(part), "=")
		i := -1
		for k, n := range mixNames {
			if n == name {
				i = k
			}
		}
		w, err := strconv.Atoi(value)
		if i < 0 || err != nil || w < 0 || w > 1000 {
			errs = append(errs, fmt.Errorf("-mix %q: %q is not status=N, ipn=N or delivery=N with N in 0..1000", f.mixSpec, part))
			continue
		}
		f.weights[i] = w
	}
	if f.weights[mixStatus] == 0 {
		errs = append(errs, fmt.Errorf("-mix %q: the status weight must be at least 1", f.mixSpec))
	}
	if len(errs) == 0 && f.count(uint64(o.total()), mixIPN) > 2_000_000 {
		errs = append(errs, errors.New("-events: more than 2,000,000 IPNs"))
	}
	return errors.Join(errs...)
}

func (f *mixedFlow) describe(o *flowOptions) string {
	n := uint64(o.events)
	return fmt.Sprintf("%d requests: %d status changes (%d per dossier), %d IPNs, %d delivery requests",
		o.events, f.count(n, mixStatus), f.versions, f.count(n, mixIPN), f.count(n, mixDelivery))
}

// period is the length of the repeating pattern.
func (f *mixedFlow) period() uint64 {
	return uint64(f.weights[0] + f.weights[1] + f.weights[2])
}

// slot says what request n is: its kind, and its rank among the requests of that kind.
func (f *mixedFlow) slot(n uint64) (kind int, rank uint64) {
	block, at := n/f.period(), n%f.period()
	for k, w := range f.weights {
		if at < uint64(w) {
			return k, block*uint64(w) + at
		}
		at -= uint64(w)
	}
	panic("unreachable")
}

// request is the sequence number of the rank-th request of kind: slot's inverse.
func (f *mixedFlow) request(kind int, rank uint64) uint64 {
	w := uint64(f.weights[kind])
	offset := uint64(0)
	for k := range kind {
		offset += uint64(f.weights[k])
	}
	return rank/w*f.period() + offset + rank%w
}

// count is how many of the first n requests are of kind.
func (f *mixedFlow) count(n uint64, kind int) uint64 {
	w := uint64(f.weights[kind])
	if w == 0 {
		return 0
	}
	offset := uint64(0)
	for k := range kind {
		offset += uint64(f.weights[k])
	}
	full, rest := n/f.period(), n%f.period()
	return full*w + min(w, rest-min(rest, offset))
}

func (f *mixedFlow) newGen(tag string, o *flowOptions) flowGen {
	statuses := f.count(uint64(o.total()), mixStatus)
	dossiers := int((statuses + uint64(f.versions) - 1) / uint64(f.versions))
	return &mixedGen{f: f, dossiers: newDossierGen(newEventGen("m"+tag, dossiers, 1)), deliveries: newDeliveryGen("d" + tag)}
}

func (f *mixedFlow) newBaseline(ctx context.Context, sandboxURL string, conns int) (func(context.Context, []byte) error, error) {
	p, err := newMiniPortal(ctx, sandboxURL+"/sandbox/dvcqg", conns)
	if err != nil {
		return nil, err
	}
	post, err := newMiniPost(ctx, sandboxURL+"/sandbox/vnpost/myvnpost", conns)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, event []byte) error {
		if bytes.Contains(event[:min(len(event), 200)], []byte(`"type":"`+events.TypeDeliveryRequested+`"`)) {
			return post.deliver(ctx, event)
		}
		return p.sync(ctx, event)
	}, nil
}

func (f *mixedFlow) configure(cfg *config.Config, sandboxURL string) {
	(&syncFlow{}).configure(cfg, sandboxURL)
	postalFlow{}.configure(cfg, sandboxURL)
}

// parked: a backlog run parks the status changes (the portal paused); the other kinds go on.
func (f *mixedFlow) parked() (string, string) { return (&syncFlow{}).parked() }

func (f *mixedFlow) delivered(sb *sandboxes.Set) int {
	return sb.Portal.StepsReceived() + sb.VNPost.Created() + int(f.ipnDone.Load())
}

func (f *mixedFlow) setHook(sb *sandboxes.Set, fn func(string, int)) {
	(&syncFlow{}).setHook(sb, fn)
	postalFlow{}.setHook(sb, fn)
	if fn == nil {
		f.onIPN.Store(nil)
	} else {
		f.onIPN.Store(&fn)
	}
}

// setUpBaseline starts the bare IPN handler and signs the phase's IPNs (the baseline verifies
// nothing: the queries only need their shape).
func (f *mixedFlow) setUpBaseline(ctx context.Context, e *env, rdb *redis.Client, o *flowOptions) (func(context.Context) error, error) {
	f.ipnDone.Store(0)
	f.client = newLoadClient(o.producers)
	b, err := startIPNBaseline(rdb, "loadgen:"+e.runID+":mixed-ipn-baseline")
	if err != nil {
		return nil, err
	}
	n := int(f.count(uint64(o.total()), mixIPN))
	f.ipnURL, f.pays = b.url(), make([]ipnPayment, n)
	settings := config.DevProfile().Payments.VNPay
	for i := range f.pays {
		if f.pays[i], err = signIPN(ipnPayment{reference: "LGB" + e.runID + strconv.Itoa(i)}, i, settings); err != nil {
			return nil, errors.Join(err, b.stop(ctx))
		}
	}
	return b.stop, nil
}

// setUpGateway creates the phase's payments at the gateway and signs their IPNs.
func (f *mixedFlow) setUpGateway(ctx context.Context, e *env, gw *gateway, o *flowOptions) error {
	f.ipnDone.Store(0)
	n := int(f.count(uint64(o.total()), mixIPN))
	if f.client == nil { // -drain=false runs no baseline
		f.client = newLoadClient(o.producers)
	}
	base := "http://" + gw.app.APIAddr()
	pays, err := createIPNPayments(ctx, f.client, base, "m"+e.runID, n, o.producers, gw.app.Config().Payments.VNPay)
	if err != nil {
		return err
	}
	f.ipnURL, f.pays = base+"/v1/callbacks/vnpay/ipn", pays
	return nil
}

// sender sends the IPNs of the mix itself and passes the events on to send.
func (f *mixedFlow) sender(send func(ctx context.Context, n uint64, body []byte) error) func(ctx context.Context, n uint64, body []byte) error {
	return func(ctx context.Context, n uint64, body []byte) error {
		kind, rank := f.slot(n)
		if kind != mixIPN {
			return send(ctx, n, body)
		}
		status, b, reply, err := getIPN(ctx, f.client, f.pays[rank].target(f.ipnURL, ipnFirst))
		if err != nil {
			return err
		}
		if reply == nil || reply.RspCode != vnpay.RspConfirmed {
			return fmt.Errorf("IPN %d answered %d %.100s, want 00", rank, status, b)
		}
		f.ipnDone.Add(1)
		if fn := f.onIPN.Load(); fn != nil {
			(*fn)("ipn-"+strconv.FormatUint(n, 10), 1)
		}
		return nil
	}
}

// mixedGen interleaves the kinds' generators by the pattern.
type mixedGen struct {
	f          *mixedFlow
	dossiers   *dossierGen
	deliveries *deliveryGen
}

// bodyOf: the status changes and delivery requests come from their own generators in the order
// of their ranks; an IPN has no body (the sender builds its request).
func (g *mixedGen) bodyOf(n uint64) []byte {
	switch kind, rank := g.f.slot(n); kind {
	case mixStatus:
		return g.dossiers.bodyOf(rank)
	case mixDelivery:
		return g.deliveries.bodyOf(rank)
	}
	return nil
}

func (g *mixedGen) eventOf(key string, nth int) (uint64, bool) {
	if rest, ok := strings.CutPrefix(key, "ipn-"); ok {
		n, err := strconv.ParseUint(rest, 10, 64)
		return n, err == nil
	}
	if rank, ok := g.deliveries.eventOf(key, nth); ok {
		return g.f.request(mixDelivery, rank), true
	}
	if rank, ok := g.dossiers.eventOf(key, nth); ok {
		return g.f.request(mixStatus, rank), true
	}
	return 0, false
}

func (f *mixedFlow) kindNames() []string { return mixNames[:] }

func (f *mixedFlow) versionsPerDossier() int { return f.versions }

func (f *mixedFlow) kindOf(n uint64) int {
	kind, _ := f.slot(n)
	return kind
}
