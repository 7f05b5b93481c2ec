// Package dashboards defines the gateway's Grafana dashboards in Go with the Grafana Foundation
// SDK and reads the panel queries back from the generated files. It builds the classic dashboard
// JSON model (the SDK's dashboard package, which it marks deprecated in favour of dashboardv2):
// that is the model Grafana's file provisioning loads without feature flags. `go run ./cmd/dashgen` writes them to
// configs/grafana/dashboards; a test fails when the committed files are stale.
//
// Every panel reads the data source chosen in the `${datasource}` variable, has a unit, and
// takes rates over `$__rate_interval`; histograms are read with
// histogram_quantile(q, sum by (le, ...) (rate(..._bucket[$__rate_interval]))). The PromQL is kept
// to what Prometheus 2.42 (Debian's package) understands.
package dashboards

import (
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"github.com/grafana/grafana-foundation-sdk/go/units"
)

// Dashboard is one generated dashboard.
type Dashboard struct {
	// File is the file name under configs/grafana/dashboards.
	File  string
	UID   string
	Title string
	// Questions are what the dashboard answers, for the README.
	Questions []string
	// JSON is the file's content.
	JSON []byte
}

// Variables the expressions use: Grafana fills them in, the live check substitutes them.
const (
	// RateInterval is Grafana's window for rate(): at least four scrape intervals.
	RateInterval = "$__rate_interval"
	// DatasourceUID is the panels' data source: the dashboard's datasource variable.
	DatasourceUID = "${datasource}"
)

const ri = RateInterval

type panelKind int

const (
	timeSeries panelKind = iota
	statPanel
	stateTimeline
)

type query struct{ expr, legend string }

type panel struct {
	kind        panelKind
	title       string
	description string
	unit        string
	width       uint32
	queries     []query
	// breakerStates maps 0, 1, 2 to closed, half-open, open.
	breakerStates bool
	// signed panels may go below zero (no axis minimum).
	signed bool
}

type row struct {
	title  string
	panels []panel
}

type board struct {
	file, uid, title, description string
	questions                     []string
	rows                          []row
}

func q(expr, legend string) query { return query{expr: expr, legend: legend} }

func ts(title, unit, description string, queries ...query) panel {
	return panel{kind: timeSeries, title: title, unit: unit, description: description, width: 12, queries: queries}
}

func signed(p panel) panel {
	p.signed = true
	return p
}

func st(title, unit, description string, queries ...query) panel {
	return panel{kind: statPanel, title: title, unit: unit, description: description, width: 4, queries: queries}
}

// quantiles returns the p50, p95 and p99 of a histogram, summed by the given labels.
func quantiles(metric, by, selector, legend string) []query {
	var out []query
	for _, qq := range []struct{ q, name string }{{"0.5", "p50"}, {"0.95", "p95"}, {"0.99", "p99"}} {
		out = append(out, q(fmt.Sprintf("histogram_quantile(%s, sum by (le, %s) (rate(%s_bucket%s[%s])))", qq.q, by, metric, selector, ri),
			qq.name+" "+legend))
	}
	return out
}

// fillZero makes a filtered rate of a counter read 0, rather than nothing, for the label sets the
// unfiltered counter has: an error ratio is 0 on a healthy route, not "No data".
func fillZero(by, metric, filter string) string {
	return fmt.Sprintf("(sum by (%[1]s) (rate(%[2]s{%[3]s}[%[4]s])) or sum by (%[1]s) (rate(%[2]s[%[4]s])) * 0)", by, metric, filter, ri)
}

func boards() []board {
	return []board{overview(), inbound(), routingBoard(), partners(), portalSync(), payments(), postal()}
}

func overview() board {
	return board{
		file: "overview.json", uid: "gateway-overview", title: "Gateway overview",
		description: "Is everything flowing? One screen for the whole gateway; the other dashboards go deeper.",
		questions: []string{
			"Is every gateway instance up and are any of its alerts firing?",
			"Are events coming in and being accepted, and are handlers finishing messages?",
			"Is anything waiting: dead letters, parked retries, open breakers, unacknowledged messages?",
			"Are partner calls and portal syncs succeeding?",
		},
		rows: []row{
			{title: "Now", panels: []panel{
				st("Gateway instances up", units.NoUnit, "Targets of the gateway job that answered their last scrape.",
					q(`sum(up{job="gateway"})`, "up")),
				st("Gateway alerts firing", units.NoUnit, "Alerts of configs/prometheus/rules firing now; see docs/runbook.md.",
					q(`count(ALERTS{alertstate="firing", alertname=~"Gateway.+"}) or vector(0)`, "firing")),
				st("Dead letters waiting", units.Short, "Messages in the dead-letter stream: gatewayctl deadletters list.",
					q(`sum(gateway_deadletter_depth)`, "dead letters")),
				st("Messages parked for retry", units.Short, "Messages waiting in the partners' delayed-retry schedules.",
					q(`sum(gateway_retry_parked_messages)`, "parked")),
				st("Breakers not closed", units.NoUnit, "Partner endpoints whose breaker is open or half-open: gatewayctl breakers.",
					q(`count(gateway_breaker_state > 0) or vector(0)`, "breakers")),
				st("Oldest unacknowledged message", units.Seconds, "Idle time of the oldest message delivered to a handler and not acknowledged.",
					q(`max(gateway_stream_oldest_pending_age_seconds)`, "age")),
			}},
			{title: "Flow", panels: []panel{
				ts("Events ingested by result", units.EventsPerSecond, "CloudEvents received on POST /v1/events.",
					q(fmt.Sprintf(`sum by (result) (rate(gateway_ingest_events_total[%s]))`, ri), "{{result}}")),
				ts("Messages finished by handler and outcome", units.MessagesPerSecond, "ok and duplicate are done; parked waits for a retry; dead_lettered needs ops.",
					q(fmt.Sprintf(`sum by (handler, outcome) (rate(gateway_handler_outcomes_total[%s]))`, ri), "{{handler}} {{outcome}}")),
				ts("Partner calls by partner and outcome", units.RequestsPerSecond, "Calls to DVCQG and the one-stop system.",
					q(fmt.Sprintf(`sum by (partner, outcome) (rate(gateway_partner_calls_total[%s]))`, ri), "{{partner}} {{outcome}}")),
				ts("Consumer group lag by handler", units.Short, "Stream entries not yet delivered to each handler; should stay near 0.",
					q(`sum by (handler) (gateway_stream_group_lag)`, "{{handler}}")),
				ts("Portal syncs by result", units.OpsPerSecond, "Dossier updates handled by the DVCQG sync.",
					q(fmt.Sprintf(`sum by (result) (rate(gateway_portal_syncs_total[%s]))`, ri), "{{result}}")),
				ts("Notifications to the one-stop system by result", units.MessagesPerSecond, "Signed webhooks to the one-stop system.",
					q(fmt.Sprintf(`sum by (result) (rate(gateway_notifications_total[%s]))`, ri), "{{result}}")),
			}},
		},
	}
}

func inbound() board {
	const reqs = "gateway_http_requests_total"
	return board{
		file: "inbound.json", uid: "gateway-inbound", title: "Gateway inbound HTTP",
		description: "Rate, errors and duration of every route of the API and admin listeners, by route template.",
		questions: []string{
			"How many requests does each route take, and with which status codes?",
			"Which routes answer client errors (4xx) or server errors (5xx), and what share of their traffic is that?",
			"How long do routes take to answer (p50, p95, p99)?",
			"How many events are accepted, duplicated or rejected, and what share is rejected?",
		},
		rows: []row{
			{title: "Rate and errors", panels: []panel{
				ts("Requests by route and status code", units.RequestsPerSecond, "Inbound requests by listener, method, route template and code.",
					q(fmt.Sprintf(`sum by (listener, method, route, code) (rate(%s[%s]))`, reqs, ri), "{{listener}} {{method}} {{route}} {{code}}")),
				ts("Client error ratio (4xx) by route", units.PercentUnit, "Share of each route's requests answered 4xx: bad input, missing token, unknown route.",
					q(fmt.Sprintf(`%s / sum by (listener, route) (rate(%s[%s]))`, fillZero("listener, route", reqs, `code=~"4.."`), reqs, ri), "{{listener}} {{route}}")),
				ts("Server error ratio (5xx) by route", units.PercentUnit, "Share of each route's requests answered 5xx; 503 on /v1/events means the store is unreachable.",
					q(fmt.Sprintf(`%s / sum by (listener, route) (rate(%s[%s]))`, fillZero("listener, route", reqs, `code=~"5.."`), reqs, ri), "{{listener}} {{route}}")),
			}},
			{title: "Duration", panels: []panel{
				ts("Latency by route", units.Seconds, "p50, p95 and p99 of the time to answer, by route template.",
					quantiles("gateway_http_request_duration_seconds", "listener, route", "", "{{listener}} {{route}}")...),
				ts("Latency of POST /v1/events", units.Seconds, "The ingest path: stored on its stream before 202 is answered.",
					quantiles("gateway_http_request_duration_seconds", "route", `{listener="api", route="/v1/events"}`, "{{route}}")...),
			}},
			{title: "Events", panels: []panel{
				ts("Events by type and result", units.EventsPerSecond, "Each event of a batch counts once.",
					q(fmt.Sprintf(`sum by (type, result) (rate(gateway_ingest_events_total[%s]))`, ri), "{{type}} {{result}}")),
				ts("Rejected event ratio", units.PercentUnit, "Share of received events rejected as invalid.",
					q(fmt.Sprintf(`sum(rate(gateway_ingest_events_total{result="rejected"}[%[1]s])) / sum(rate(gateway_ingest_events_total[%[1]s]))`, ri), "rejected")),
			}},
		},
	}
}

func routingBoard() board {
	return board{
		file: "routing.json", uid: "gateway-routing", title: "Gateway routing and queues",
		description: "Handlers (rate, errors, duration), retries, parked messages, dead letters, and the streams and consumer groups behind them.",
		questions: []string{
			"How many messages does each handler finish, with which outcome, and how long does a delivery take?",
			"Which handlers fail deliveries, retry them in process, park them for later or dead-letter them?",
			"How many messages wait in each retry schedule, and when is the next one due?",
			"Are the consumer groups keeping up (lag, pending, oldest pending age), and how long are the streams?",
		},
		rows: []row{
			{title: "Handlers", panels: []panel{
				ts("Deliveries by handler and outcome", units.MessagesPerSecond, "Every delivery a handler finished.",
					q(fmt.Sprintf(`sum by (handler, outcome) (rate(gateway_handler_outcomes_total[%s]))`, ri), "{{handler}} {{outcome}}")),
				ts("Failed delivery ratio by handler", units.PercentUnit, "Share of deliveries that ended in an error (then parked, dead-lettered or returned).",
					q(fmt.Sprintf(`sum by (handler) (rate(gateway_router_handler_duration_seconds_count{success="false"}[%[1]s])) / sum by (handler) (rate(gateway_router_handler_duration_seconds_count[%[1]s]))`, ri), "{{handler}}")),
				ts("Delivery duration by handler", units.Seconds, "Time in the handler, short retries included.",
					quantiles("gateway_router_handler_duration_seconds", "handler", "", "{{handler}}")...),
			}},
			{title: "Retries and dead letters", panels: []panel{
				ts("Short retries by handler", units.OpsPerSecond, "In-process retries of transient failures, before a message is parked.",
					q(fmt.Sprintf(`sum by (handler) (rate(gateway_handler_retries_total[%s]))`, ri), "{{handler}}")),
				ts("Messages parked by handler", units.Short, "Messages waiting in the delayed-retry schedule of each handler's partner.",
					q(`sum by (handler, partner) (gateway_retry_parked_messages)`, "{{handler}} {{partner}}")),
				signed(ts("Next parked retry due in", units.Seconds, "Time until the earliest parked message is due; below 0 means the mover is late.",
					q(`min by (handler, partner) (gateway_retry_oldest_due_timestamp_seconds > 0) - time()`, "{{handler}} {{partner}}"))),
				ts("Dead letters published by handler and reason", units.MessagesPerSecond, "permanent: refused by the partner; exhausted: retries used up; unreadable: a corrupt entry.",
					q(fmt.Sprintf(`sum by (handler, reason) (rate(gateway_deadletters_published_total[%s]))`, ri), "{{handler}} {{reason}}")),
				ts("Dead letters waiting", units.Short, "Entries in the dead-letter stream, until replayed or discarded.",
					q(`sum(gateway_deadletter_depth)`, "dead letters")),
			}},
			{title: "Streams and consumer groups", panels: []panel{
				ts("Stream length by topic", units.Short, "Entries kept in each topic's stream.",
					q(`sum by (topic) (gateway_stream_length)`, "{{topic}}")),
				ts("Consumer group lag", units.Short, "Entries not yet delivered to each handler's group.",
					q(`sum by (topic, handler) (gateway_stream_group_lag)`, "{{topic}} {{handler}}")),
				ts("Pending entries", units.Short, "Entries delivered to each handler's group and not yet acknowledged.",
					q(`sum by (topic, handler) (gateway_stream_group_pending)`, "{{topic}} {{handler}}")),
				ts("Oldest pending age", units.Seconds, "Idle time of each group's oldest unacknowledged entry.",
					q(`max by (topic, handler) (gateway_stream_oldest_pending_age_seconds)`, "{{topic}} {{handler}}")),
			}},
		},
	}
}

func partners() board {
	const calls = "gateway_partner_calls_total"
	return board{
		file: "partners.json", uid: "gateway-partners", title: "Gateway partners and breakers",
		description: "Calls to every partner by operation and outcome, their latency, and the circuit breaker of each endpoint.",
		questions: []string{
			"How many calls go to each partner and operation, and with which outcome?",
			"What share of each endpoint's calls fail, and how slow are they (p50, p95, p99)?",
			"Which breakers are open or half-open now, and when did they change state?",
			"How many calls are refused by an open breaker or a pause instead of reaching the partner?",
		},
		rows: []row{
			{title: "Calls", panels: []panel{
				partnerCallsPanel("Calls by partner, operation and outcome", "Every call through the shared partner client.",
					"", "partner, operation, outcome", "{{partner}} {{operation}} {{outcome}}"),
				partnerFailedRatioPanel("Failed call ratio by partner and operation", "Transient, permanent and breaker-refused calls over all calls that were not paused or cancelled.",
					"", "partner, operation", "{{partner}} {{operation}}"),
				partnerLatencyPanel("Latency by partner and operation (p95)", "95th percentile of call latency per endpoint.",
					"", "partner, operation", "{{partner}} {{operation}}"),
				ts("Latency by partner", units.Seconds, "p50, p95 and p99 of call latency per partner.",
					quantiles("gateway_partner_call_duration_seconds", "partner", "", "{{partner}}")...),
			}},
			{title: "Breakers", panels: []panel{
				breakerStatePanel("Breaker state now", "0 closed, 1 half-open (one probe call allowed), 2 open (calls refused). gatewayctl breakers shows the same.",
					"", "partner, operation", "{{partner}} {{operation}}"),
				{kind: stateTimeline, title: "Breaker state over time", unit: units.NoUnit, width: 12, breakerStates: true,
					description: "Each endpoint's breaker as scraped.",
					queries:     []query{q(`max by (partner, operation) (gateway_breaker_state)`, "{{partner}} {{operation}}")}},
				ts("Breaker transitions by new state", units.Short, "State changes per interval, by the state entered.",
					q(fmt.Sprintf(`sum by (partner, operation, to) (increase(gateway_breaker_transitions_total[%s]))`, ri), "{{partner}} {{operation}} to {{to}}")),
				ts("Calls refused by a breaker or a pause", units.RequestsPerSecond, "Calls that never reached the partner.",
					q(fmt.Sprintf(`sum by (partner, outcome) (rate(%s{outcome=~"breaker_open|paused"}[%s]))`, calls, ri), "{{partner}} {{outcome}}")),
			}},
		},
	}
}

func portalSync() board {
	const portalCalls = `gateway_partner_calls_total{partner="dvcqg"`
	return board{
		file: "portal.json", uid: "gateway-portal", title: "Gateway portal sync (DVCQG)",
		description: "Dossier states and processing steps sent to the national public-service portal.",
		questions: []string{
			"Are dossier updates reaching DVCQG: how many are synced, superseded or sent as steps only?",
			"What share of calls to the portal fail, on which operation, and how slow is it?",
			"How many dossier updates wait for a retry, and how many were dead-lettered and why?",
			"Is the one-stop system told (dossier.sync_failed) about the dossiers that could not be synced?",
			"How many dossiers have not reached the portal yet, for how long, and are any past their processing deadline?",
			"Are dossiers submitted on the national portal delivered to the one-stop system and acknowledged, and are the national catalogues refreshed?",
			"Did the last drift report find dossiers the portal holds differently from what was synced, when did it run, and how far has a re-sync got?",
		},
		rows: []row{
			{title: "Portal sync", panels: []panel{
				ts("Dossier updates by result", units.OpsPerSecond, "synced: state sent; superseded: a newer version was already sent; step_sent: only the processing step.",
					q(fmt.Sprintf(`sum by (result) (rate(gateway_portal_syncs_total[%s]))`, ri), "{{result}}")),
				ts("Dossier updates to the portal by outcome", units.MessagesPerSecond, "Deliveries of the dossier_status_to_portal handler.",
					q(fmt.Sprintf(`sum by (outcome) (rate(gateway_handler_outcomes_total{handler="dossier_status_to_portal"}[%s]))`, ri), "{{outcome}}")),
				ts("Failing portal calls (share)", units.PercentUnit, "Transient and breaker-refused calls over all calls not paused or cancelled: the signal of GatewayPortalSyncFailing.",
					q(fmt.Sprintf(`sum(rate(%[1]s, outcome=~"transient_error|breaker_open"}[%[2]s])) / sum(rate(%[1]s, outcome=~"ok|transient_error|permanent_error|breaker_open"}[%[2]s]))`, portalCalls, ri), "failing")),
				ts("Portal calls by operation and outcome", units.RequestsPerSecond, "login, lookup_dossier, sync_dossier (DongBoHoSoMC), add_progress (CapNhatTienDoHoSoMC), fetch_submissions and ack_submission (national submissions), fetch_catalog (catalogues).",
					q(fmt.Sprintf(`sum by (operation, outcome) (rate(%s}[%s]))`, portalCalls, ri), "{{operation}} {{outcome}}")),
				ts("Portal latency by operation (p95)", units.Seconds, "95th percentile of call latency per portal operation.",
					q(fmt.Sprintf(`histogram_quantile(0.95, sum by (le, operation) (rate(gateway_partner_call_duration_seconds_bucket{partner="dvcqg"}[%s])))`, ri), "{{operation}}")),
				{kind: statPanel, title: "Portal breakers now", unit: units.NoUnit, width: 12, breakerStates: true,
					description: "0 closed, 1 half-open, 2 open, per portal operation.",
					queries:     []query{q(`max by (operation) (gateway_breaker_state{partner="dvcqg"})`, "{{operation}}")}},
			}},
			{title: "Waiting and failed", panels: []panel{
				ts("Dossier updates waiting for a retry", units.Short, "Parked in the DVCQG retry schedule.",
					q(`sum(gateway_retry_parked_messages{partner="dvcqg"})`, "parked")),
				ts("Portal dead letters by reason", units.Short, "Dossier updates dead-lettered per interval: gatewayctl deadletters list -partner dvcqg.",
					q(fmt.Sprintf(`sum by (reason) (increase(gateway_deadletters_published_total{handler="dossier_status_to_portal"}[%s]))`, ri), "{{reason}}")),
				ts("dossier.sync_failed notices to the one-stop system", units.MessagesPerSecond, "The one-stop system is told about every dossier the portal refused.",
					q(fmt.Sprintf(`sum by (result) (rate(gateway_notifications_total{type="dossier.sync_failed"}[%s]))`, ri), "{{result}}")),
				ts("Dossiers not yet at the portal by wait", units.Short, "Dossiers whose newest version has not reached the portal (retrying, parked or dead-lettered), by how long they have waited. Every replica reads the same store: the replicas' maximum is shown.",
					q(`max by (age) (gateway_portal_unsynced_dossiers)`, "{{age}}")),
				ts("Unsynced dossiers past their processing deadline", units.Short, "Dossiers whose NgayHenTra has passed while the portal still lacks their newest state (GatewayPortalNotSyncedBeforeDeadline).",
					q(`max(gateway_portal_unsynced_past_due_dossiers)`, "past due")),
				ts("Longest wait for the portal", units.Seconds, "How long the longest-waiting unsynced dossier has waited; 0 when none waits.",
					q(`max(gateway_portal_unsynced_oldest_age_seconds)`, "oldest")),
			}},
			{title: "National submissions and catalogues", panels: []panel{
				ts("National submissions by outcome", units.Short, "Dossiers submitted on the national portal, per interval: fetched, queued for the one-stop system, duplicate (read again), delivered to it, acknowledged to the portal, ignored_agency (an agency not served here), ignored_invalid (an unreadable entry). Queued without acknowledged for hours: GatewayPortalSubmissionsNotAcknowledged.",
					q(fmt.Sprintf(`sum by (outcome) (increase(gateway_portal_submissions_total[%s]))`, ri), "{{outcome}}")),
				ts("Catalogue refreshes by catalogue and outcome", units.Short, "Refreshes per interval: changed, unchanged, incomplete (a truncated or malformed answer) or failed (the call failed); the last two keep the last good catalogue (GatewayCatalogRefreshFailing).",
					q(fmt.Sprintf(`sum by (catalog, outcome) (increase(gateway_catalog_refreshes_total[%s]))`, ri), "{{catalog}} {{outcome}}")),
				ts("Catalogue entries by catalogue", units.Short, "Entries of each cached national catalogue as of each replica's last load; the replicas' maximum is shown.",
					q(`max by (catalog) (gateway_catalog_entries)`, "{{catalog}}")),
				ts("Catalogue changes by catalogue and kind", units.Short, "Entries added, removed or changed by refreshes, per interval (the first refresh adds every entry).",
					q(fmt.Sprintf(`sum by (catalog, kind) (increase(gateway_catalog_changes_total[%s]))`, ri), "{{catalog}} {{kind}}")),
			}},
			{title: "Drift and re-sync", panels: []panel{
				ts("Drifts of the last report by class", units.Short, "Dossiers the last status reconciliation found different at the portal: missing_at_portal, stale_status, fee_mismatch, date_mismatch (GET /admin/v1/sync/drift/{day}; GatewayPortalDrift).",
					q(`max by (class) (gateway_portal_drifts)`, "{{class}}")),
				ts("Drift report runs by outcome", units.Short, "Status reconciliation runs per interval: clean, drifts, error (some dossiers could not be looked up).",
					q(fmt.Sprintf(`sum by (outcome) (increase(gateway_portal_drift_runs_total[%s]))`, ri), "{{outcome}}")),
				ts("Time since the last drift report by outcome", units.Seconds, "How long ago a run last ended with each outcome, on the replica that ran it; an outcome never seen since start-up is not shown. The report runs daily.",
					q(`time() - max by (outcome) (gateway_portal_drift_last_run_timestamp_seconds > 0)`, "{{outcome}}")),
				ts("Re-sync progress by result", units.Short, "Dossiers handled by bulk re-sync jobs per interval: sent to the portal sync, duplicate (already sent by the same job before an interruption), unavailable (the last synced state expired). GET /admin/v1/sync/replay/{id} shows a job.",
					q(fmt.Sprintf(`sum by (result) (increase(gateway_portal_resync_dossiers_total[%s]))`, ri), "{{result}}")),
			}},
		},
	}
}

// vnd is Grafana's custom currency unit for Vietnamese đồng (scaled to K, M, B).
const vnd = "currency:₫"

func payments() board {
	return board{
		file: "payments.json", uid: "gateway-payments", title: "Gateway payments and reconciliation",
		description: "Fee payments through VNPay, PayGov and VietQR: requests, provider callbacks, state changes, amounts, status queries and the daily reconciliation.",
		questions: []string{
			"How many payments are requested per provider, and how many are refused and why?",
			"Are provider callbacks arriving and being applied, and what share of them is refused (a forged or misconfigured provider)?",
			"Is every callback kept in the evidence log, or are records lost?",
			"How many payments become paid, failed, expired or cancelled per provider, and how much money was paid?",
			"Are status queries for payments without a callback answered, or do they fail?",
			"Did the last reconciliation find mismatches, of which class and with which provider, and did the runs finish?",
		},
		rows: []row{
			{title: "Requests", panels: []panel{
				ts("Payment requests by provider and result", units.RequestsPerSecond, "POST /v1/payments; replayed: a repeat with the same idempotency key; unknown: a refused request naming no known provider.",
					q(fmt.Sprintf(`sum by (provider, result) (rate(gateway_payment_requests_total[%s]))`, ri), "{{provider}} {{result}}")),
				ts("Refused payment requests by reason", units.RequestsPerSecond, "Why POST /v1/payments was refused; unavailable means the store did not answer.",
					q(fmt.Sprintf(`sum by (reason) (rate(gateway_payment_requests_rejected_total[%s]))`, ri), "{{reason}}")),
			}},
			{title: "Callbacks", panels: []panel{
				ts("Callbacks accepted by endpoint and result", units.RequestsPerSecond, "applied: the payment changed state; already_settled: a repeat of a callback already applied.",
					q(fmt.Sprintf(`sum by (endpoint, result) (rate(gateway_payment_callbacks_total[%s]))`, ri), "{{endpoint}} {{result}}")),
				ts("Callbacks refused by endpoint and reason", units.RequestsPerSecond, "bad_signature or unknown_reference in numbers: forged callbacks or a provider with the wrong secret (GatewayPaymentCallbacksRejected).",
					q(fmt.Sprintf(`sum by (endpoint, reason) (rate(gateway_payment_callbacks_rejected_total[%s]))`, ri), "{{endpoint}} {{reason}}")),
				ts("Callbacks kept as evidence by endpoint and result", units.Short, "Callbacks appended to the evidence log per interval (recorded), or answered but lost to a store failure (failed): a gap a dispute cannot fill (GatewayEvidenceRecordsLost; GET /admin/v1/evidence/{day}/verify).",
					q(fmt.Sprintf(`sum by (endpoint, result) (increase(gateway_evidence_records_total[%s]))`, ri), "{{endpoint}} {{result}}")),
				ts("Refused callback share by endpoint", units.PercentUnit, "Refused callbacks over all callbacks received on each endpoint; a rising share is a forgery or misconfiguration signal.",
					q(fmt.Sprintf(`sum by (endpoint) (rate(gateway_payment_callbacks_rejected_total[%[1]s])) / (sum by (endpoint) (rate(gateway_payment_callbacks_rejected_total[%[1]s])) + sum by (endpoint) (rate(gateway_payment_callbacks_total[%[1]s])))`, ri), "{{endpoint}}")),
			}},
			{title: "Settlement", panels: []panel{
				ts("Payment state changes by provider and state", units.OpsPerSecond, "Payments entering paid, failed, expired or cancelled.",
					q(fmt.Sprintf(`sum by (provider, to) (rate(gateway_payment_transitions_total[%s]))`, ri), "{{provider}} {{to}}")),
				ts("Amount paid by provider", vnd, "Đồng paid per interval, by provider (payments that became paid).",
					q(fmt.Sprintf(`sum by (provider) (increase(gateway_payment_paid_vnd_total[%s]))`, ri), "{{provider}}")),
				ts("Status queries by provider and outcome", units.OpsPerSecond, "Questions to providers about payments without a callback; error: the provider did not answer (GatewayPaymentStatusQueriesFailing), unsupported: VietQR has no query.",
					q(fmt.Sprintf(`sum by (provider, outcome) (rate(gateway_payment_status_queries_total[%s]))`, ri), "{{provider}} {{outcome}}")),
				ts("Pending payments by provider and age", units.Short, "Payments still pending: within their time to live, in the grace after it, or overdue (past both: no callback and no answer to the status query; GatewayPaymentsPendingTooLong). Every replica reads the same store, so the replicas' maximum is shown.",
					q(`max by (provider, age) (gateway_payments_pending)`, "{{provider}} {{age}}")),
				ts("Oldest pending payment by provider", units.Seconds, "Age of each provider's oldest pending payment; 0 when none is pending.",
					q(`max by (provider) (gateway_payments_pending_oldest_age_seconds)`, "{{provider}}")),
			}},
			{title: "Reconciliation", panels: []panel{
				ts("Mismatches of the last reconciliation by provider and class", units.Short, "What the last run found; GET /admin/v1/reconciliation/{day} on the admin listener lists them (GatewayReconciliationMismatches).",
					q(`sum by (provider, class) (gateway_reconciliation_mismatches)`, "{{provider}} {{class}}")),
				ts("Reconciliation runs by outcome", units.Short, "Runs finished per interval: clean, mismatches, or error (a provider's list unreadable, the store down).",
					q(fmt.Sprintf(`sum by (outcome) (increase(gateway_reconciliation_runs_total[%s]))`, ri), "{{outcome}}")),
			}},
		},
	}
}

func datasourceRef() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr(DatasourceUID)}
}

func breakerMappings() []dashboard.ValueMapping {
	result := func(text, color string, index int32) dashboard.ValueMappingResult {
		return dashboard.ValueMappingResult{Text: cog.ToPtr(text), Color: cog.ToPtr(color), Index: cog.ToPtr(index)}
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{
		Type: dashboard.MappingTypeValueToText,
		Options: map[string]dashboard.ValueMappingResult{
			"0": result("closed", "green", 0),
			"1": result("half-open", "yellow", 1),
			"2": result("open", "red", 2),
		},
	}}}
}

func targets(p panel) []cog.Builder[variants.Dataquery] {
	var out []cog.Builder[variants.Dataquery]
	for i, qq := range p.queries {
		b := prometheus.NewDataqueryBuilder().
			Expr(qq.expr).
			LegendFormat(qq.legend).
			RefId(string(rune('A' + i))).
			Datasource(datasourceRef())
		if p.kind == statPanel {
			b = b.Instant()
		} else {
			b = b.Range()
		}
		out = append(out, b)
	}
	return out
}

func legend() *common.VizLegendOptionsBuilder {
	return common.NewVizLegendOptionsBuilder().ShowLegend(true).
		DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom)
}

func tooltip() *common.VizTooltipOptionsBuilder {
	return common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending)
}

func buildPanel(p panel, id uint32) cog.Builder[dashboard.Panel] {
	const height, statHeight = 8, 4
	switch p.kind {
	case statPanel:
		b := stat.NewPanelBuilder().Id(id).Title(p.title).Description(p.description).Unit(p.unit).
			Datasource(datasourceRef()).Targets(targets(p)).Span(p.width).Height(statHeight).
			GraphMode(common.BigValueGraphModeNone).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
		if p.breakerStates {
			b = b.Mappings(breakerMappings()).Height(height)
		}
		return b
	case stateTimeline:
		return statetimeline.NewPanelBuilder().Id(id).Title(p.title).Description(p.description).Unit(p.unit).
			Datasource(datasourceRef()).Targets(targets(p)).Span(p.width).Height(height).
			Mappings(breakerMappings()).Legend(legend()).Tooltip(tooltip())
	}
	b := timeseries.NewPanelBuilder().Id(id).Title(p.title).Description(p.description).Unit(p.unit).
		Datasource(datasourceRef()).Targets(targets(p)).Span(p.width).Height(height).
		FillOpacity(10).Legend(legend()).Tooltip(tooltip())
	if !p.signed {
		b = b.Min(0)
	}
	return b
}

func build(bd board) (Dashboard, error) {
	b := dashboard.NewDashboardBuilder(bd.title).
		Uid(bd.uid).
		Description(bd.description).
		Tags([]string{"gateway"}).
		Editable().
		Refresh("30s").
		Time("now-1h", "now").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").Label("Data source").Type("prometheus"))
	id := uint32(1)
	for _, r := range bd.rows {
		b = b.WithRow(dashboard.NewRowBuilder(r.title).Id(id))
		id++
		for _, p := range r.panels {
			if p.unit == "" {
				return Dashboard{}, fmt.Errorf("dashboard %s: panel %q has no unit", bd.uid, p.title)
			}
			b = b.WithPanel(buildPanel(p, id))
			id++
		}
	}
	d, err := b.Build()
	if err != nil {
		return Dashboard{}, fmt.Errorf("building dashboard %s: %w", bd.uid, err)
	}
	raw, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return Dashboard{}, fmt.Errorf("encoding dashboard %s: %w", bd.uid, err)
	}
	return Dashboard{File: bd.file, UID: bd.uid, Title: bd.title, Questions: bd.questions, JSON: append(raw, '\n')}, nil
}

// All builds every dashboard.
func All() ([]Dashboard, error) {
	var out []Dashboard
	for _, bd := range boards() {
		d, err := build(bd)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// Query is one panel query of a dashboard file.
type Query struct {
	Dashboard string // the dashboard's uid
	Panel     string // the panel's title
	Unit      string
	RefID     string
	Expr      string
}

type panelJSON struct {
	Type        string `json:"type"`
	Title       string `json:"title"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panelJSON `json:"panels"`
}

// Queries reads every panel query of a dashboard file, in panel order (panels inside collapsed
// rows included).
func Queries(raw []byte) ([]Query, error) {
	var d struct {
		UID    string      `json:"uid"`
		Panels []panelJSON `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("reading dashboard: %w", err)
	}
	var out []Query
	var walk func(ps []panelJSON)
	walk = func(ps []panelJSON) {
		for _, p := range ps {
			for _, t := range p.Targets {
				out = append(out, Query{Dashboard: d.UID, Panel: p.Title, Unit: p.FieldConfig.Defaults.Unit, RefID: t.RefID, Expr: t.Expr})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out, nil
}
