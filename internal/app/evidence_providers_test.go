package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/egov-vn/gateway/connectors/bank"
	"github.com/egov-vn/gateway/connectors/bank/vietqr"
	"github.com/egov-vn/gateway/internal/app/apptest"
	"github.com/egov-vn/gateway/internal/config"
	"github.com/egov-vn/gateway/internal/evidence"
	"github.com/egov-vn/gateway/internal/vntime"
)

// TestPayGovAndBankCallbacksAreKeptAsEvidence pays through the PayGov and bank sandboxes, then
// sends a forged PayGov confirmation (checksum with key 1) and a bank notification signed with
// the wrong secret: each callback is in the day's evidence as sent (body, signature and timestamp
// headers) with the answer given, and the chain verifies. A record whose verdict is edited is
// found at its place; once restored the day verifies again; and removing the day's last record
// (which leaves every remaining link intact) is found by the day's anchor.
func TestPayGovAndBankCallbacksAreKeptAsEvidence(t *testing.T) {
	for _, store := range apptest.Stores {
		t.Run(store.String(), func(t *testing.T) {
			gw := apptest.Start(t, apptest.Config(t, store))
			today := time.Now().In(vntime.Zone).Format(time.DateOnly)

			pg := paid(t, gw, "evidence-pg-"+store.String(), bank.ProviderPayGov, 30000)
			pref := pg["reference"].(string)
			forged, _ := json.Marshal(confirmation(pref, 30000, config.DemoPayGovKey1))
			code, out, _ := doJSON(t, http.MethodPost, gw.API+"/v1/callbacks/paygov/confirm", "", nil, string(forged))
			if code != http.StatusOK || out["return_code"] != float64(-1) {
				t.Fatalf("forged confirmation: %d %v", code, out)
			}

			qr := paid(t, gw, "evidence-qr-"+store.String(), bank.ProviderVietQR, 40000)
			qref := qr["reference"].(string)
			badBody := credit(qref, 40000)
			if code, out := sendNotification(t, gw, config.DemoBank, "not-the-bank-secret", time.Now(), badBody, badBody); code != http.StatusUnauthorized {
				t.Fatalf("notification signed with another secret: %d %v", code, out)
			}

			list := func() []evidence.Record {
				pg, _ := adminGet[struct {
					Items []evidence.Record `json:"items"`
				}](t, gw, "/admin/v1/evidence/"+today+"?limit=500", "listing evidence")
				return pg.Items
			}
			// The records of one endpoint whose body names ref, in order.
			of := func(items []evidence.Record, endpoint, ref string) []evidence.Record {
				var out []evidence.Record
				for _, r := range items {
					if r.Endpoint == endpoint && strings.Contains(r.Body, ref) {
						out = append(out, r)
					}
				}
				return out
			}
			apptest.Eventually(t, 5*time.Second, "the four callbacks recorded", func() bool {
				items := list()
				return len(of(items, bank.EndpointPayGovConfirm, pref)) >= 2 && len(of(items, bank.EndpointBankTransactions, qref)) >= 2
			})
			items := list()

			// PayGov: the sandbox's genuine confirmation, then the forged one kept byte for byte.
			var verdicts []string
			confirms := of(items, bank.EndpointPayGovConfirm, pref)
			for _, r := range confirms {
				var reply struct {
					ReturnCode int `json:"return_code"`
				}
				_ = json.Unmarshal([]byte(r.Verdict.Answer), &reply)
				verdicts = append(verdicts, fmt.Sprintf("%d %d", r.Verdict.Status, reply.ReturnCode))
				if r.Method != http.MethodPost || r.Reference != pref || r.BodyEncoding != "utf8" {
					t.Errorf("PayGov record %+v", r)
				}
			}
			if got := strings.Join(verdicts, ","); got != "200 0,200 -1" {
				t.Fatalf("PayGov confirmations kept with verdicts %s, want 200 0,200 -1", got)
			}
			if last := confirms[len(confirms)-1]; last.Body != string(forged) || last.BodySize != len(forged) {
				t.Fatalf("the forged confirmation was kept as %q (%d bytes), want %q", last.Body, last.BodySize, forged)
			}

			// Bank: the sandbox's signed notification (applied), then the one signed with another
			// secret (401), each with its body, signature and timestamp as received.
			verdicts = nil
			notes := of(items, bank.EndpointBankTransactions, qref)
			for _, r := range notes {
				result := ""
				var ack vietqr.Ack
				if json.Unmarshal([]byte(r.Verdict.Answer), &ack) == nil && len(ack.Results) > 0 {
					result = " " + ack.Results[0].Result
				}
				verdicts = append(verdicts, fmt.Sprintf("%d%s", r.Verdict.Status, result))
				if r.Headers[vietqr.HeaderSignature] == "" || r.Headers[vietqr.HeaderTimestamp] == "" {
					t.Errorf("bank record without its signature or timestamp header: %v", r.Headers)
				}
			}
			if got := strings.Join(verdicts, ","); got != "200 applied,401" {
				t.Fatalf("bank notifications kept with verdicts %s, want 200 applied,401", got)
			}
			if last := notes[len(notes)-1]; last.Body != string(badBody) {
				t.Fatalf("the refused notification was kept as %q, want %q", last.Body, badBody)
			}

			verify := func() evidence.Verification {
				v, _ := adminGet[evidence.Verification](t, gw, "/admin/v1/evidence/"+today+"/verify", "verifying evidence")
				return v
			}
			if v := verify(); !v.Valid || v.Records != len(items) || v.AnchoredRecords != len(items) {
				t.Fatalf("verification %+v, want a valid chain of the %d records listed, all anchored", v, len(items))
			}

			// Tampering: the forged confirmation's verdict is turned into an acceptance.
			key := gw.Evidence.Key(today)
			tampered := confirms[len(confirms)-1]
			index := -1
			for i, r := range items {
				if r.ID == tampered.ID {
					index = i
				}
			}
			restore := rewriteRecord(t, gw.Store.Client, key, tampered.ID, func(entry string) string {
				return strings.Replace(entry, `\"return_code\":-1`, `\"return_code\":0`, 1)
			})
			if v := verify(); v.Valid || v.FirstBroken == nil || v.FirstBroken.ID != tampered.ID || v.FirstBroken.Index != index {
				t.Fatalf("verification of the tampered day %+v (broken %+v), want broken at record %d (%s)", v, v.FirstBroken, index, tampered.ID)
			}
			restore()
			if v := verify(); !v.Valid {
				t.Fatalf("verification after restoring the record %+v (broken %+v), want valid", v, v.FirstBroken)
			}

			// Truncation: the day's last record (the refused bank notification) is removed.
			if err := gw.Store.Client.XDel(t.Context(), key, items[len(items)-1].ID).Err(); err != nil {
				t.Fatal(err)
			}
			v := verify()
			if v.Valid || v.Records != len(items)-1 || v.AnchoredRecords != len(items) || v.FirstBroken == nil ||
				!strings.Contains(v.FirstBroken.Reason, "removed from the end") {
				t.Fatalf("verification after removing the last record %+v (broken %+v), want invalid with %d of %d anchored records",
					v, v.FirstBroken, len(items)-1, len(items))
			}
		})
	}
}

// rewriteRecord replaces the entry of record id of stream key by edit(entry), keeping every
// record's id, as someone with write access to Redis could; the returned function puts the
// original back.
func rewriteRecord(t *testing.T, c redis.UniversalClient, key, id string, edit func(string) string) (restore func()) {
	t.Helper()
	ctx := t.Context()
	msgs, err := c.XRange(ctx, key, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	write := func(change bool) {
		if err := c.Del(ctx, key).Err(); err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			entry, _ := m.Values["entry"].(string)
			if change && m.ID == id {
				edited := edit(entry)
				if edited == entry {
					t.Fatal("the edit changed nothing")
				}
				entry = edited
			}
			if err := c.XAdd(ctx, &redis.XAddArgs{Stream: key, ID: m.ID, Values: []any{
				"entry", entry, "prev_hash", m.Values["prev_hash"], "hash", m.Values["hash"]}}).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(true)
	return func() { write(false) }
}
