package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/units"
)

// Helpers shared by the partners board and the boards of one partner (postal): sel is a label
// matcher list without braces (`partner="vnpost"`) or empty, by the labels kept besides the
// partner's.

func matchers(sel, more string) string {
	switch {
	case sel == "" && more == "":
		return ""
	case sel == "":
		return "{" + more + "}"
	case more == "":
		return "{" + sel + "}"
	}
	return "{" + sel + ", " + more + "}"
}

// partnerCallsPanel is the calls of the selected partners by operation and outcome.
func partnerCallsPanel(title, description, sel, by, legend string) panel {
	return ts(title, units.RequestsPerSecond, description,
		q(fmt.Sprintf(`sum by (%s) (rate(gateway_partner_calls_total%s[%s]))`, by, matchers(sel, ""), ri), legend))
}

// partnerFailedRatioPanel is the share of failed calls (transient, permanent, refused by the
// breaker) over all calls that were not paused or cancelled.
func partnerFailedRatioPanel(title, description, sel, by, legend string) panel {
	return ts(title, units.PercentUnit, description,
		q(fmt.Sprintf(`sum by (%[1]s) (rate(gateway_partner_calls_total%[2]s[%[4]s])) / sum by (%[1]s) (rate(gateway_partner_calls_total%[3]s[%[4]s]))`,
			by, matchers(sel, `outcome=~"transient_error|permanent_error|breaker_open"`), matchers(sel, `outcome!~"paused|canceled"`), ri), legend))
}

// partnerLatencyPanel is the 95th percentile of call latency.
func partnerLatencyPanel(title, description, sel, by, legend string) panel {
	return ts(title, units.Seconds, description,
		q(fmt.Sprintf(`histogram_quantile(0.95, sum by (le, %s) (rate(gateway_partner_call_duration_seconds_bucket%s[%s])))`, by, matchers(sel, ""), ri), legend))
}

// breakerStatePanel is the breaker state of the selected endpoints now.
func breakerStatePanel(title, description, sel, by, legend string) panel {
	return panel{kind: statPanel, title: title, unit: units.NoUnit, width: 12, breakerStates: true, description: description,
		queries: []query{q(fmt.Sprintf(`max by (%s) (gateway_breaker_state%s)`, by, matchers(sel, "")), legend)}}
}

func postal() board {
	const vnpost = `partner="vnpost"`
	const handler = `handler="delivery_requested_to_vnpost"`
	return board{
		file: "postal.json", uid: "gateway-postal", title: "Gateway postal delivery (VNPost)",
		description: "Shipments ordered from VNPost for results delivered home and dossiers collected, their tracking, and the calls to VNPost.",
		questions: []string{
			"How many shipments are ordered, of which kind, and which statuses are they reaching?",
			"How many deliveries fail or come back (pickup failed, delivery failed, returning, cancelled)?",
			"Is tracking polled and succeeding, and how many tracking records change nothing and why?",
			"Are calls to VNPost succeeding, how slow are they, and is a breaker open?",
			"Are delivery requests handled (rate, errors, duration), or do they wait in the queue or the retry schedule?",
		},
		rows: []row{
			{title: "Shipments", panels: []panel{
				ts("Shipments created by kind", units.Short, "Orders created at VNPost per interval: deliver_result (a result delivered home) and collect_dossier (papers collected from the citizen); a retried create that found its order counts once.",
					q(fmt.Sprintf(`sum by (kind) (increase(gateway_delivery_shipments_created_total[%s]))`, ri), "{{kind}}")),
				ts("Status changes by status", units.Short, "Shipment statuses recorded per interval, each once per shipment (MyVNPost codes: 1 created, 4 picking up, 6 picked up, 7 at the post office, 10 in transit, 12 delivering, 14 delivered, 19 completed; 5, 15, 18, 22 are problems).",
					q(fmt.Sprintf(`sum by (status) (increase(gateway_delivery_status_changes_total[%s]))`, ri), "{{status}}")),
				ts("Failed or returned deliveries by kind and status", units.Short, "5 pickup failed, 15 delivery failed, 18 returning, 22 cancelled, per interval; each is on its dossier's timeline (gatewayctl dossier) and notified to the one-stop system (GatewayDeliveriesFailing).",
					q(fmt.Sprintf(`sum by (kind, status) (increase(gateway_delivery_problems_total[%s]))`, ri), "{{kind}} {{status}}")),
			}},
			{title: "Tracking", panels: []panel{
				ts("Tracking polls by outcome", units.OpsPerSecond, "Polls of VNPost's tracking: ok, error (the partner or the store failed; the cursor stays), skipped (another replica holds the poll). No ok on any replica means statuses are stale (GatewayPostalTrackingFailing).",
					q(fmt.Sprintf(`sum by (outcome) (rate(gateway_delivery_tracking_polls_total[%s]))`, ri), "{{outcome}}")),
				ts("Tracking records ignored by reason", units.Short, "Records that changed nothing, per interval: duplicate (a status already recorded), after_final, unknown_order, unknown_status (a code outside the known ones: a partner format change?).",
					q(fmt.Sprintf(`sum by (reason) (increase(gateway_delivery_tracking_ignored_total[%s]))`, ri), "{{reason}}")),
			}},
			{title: "VNPost partner", panels: []panel{
				partnerCallsPanel("VNPost calls by operation and outcome", "login, lookup_order, create_order, tracking, cancel_order (token instead of login with the NGSP dialect).",
					vnpost, "operation, outcome", "{{operation}} {{outcome}}"),
				partnerFailedRatioPanel("Failed VNPost call ratio by operation", "Transient, permanent and breaker-refused calls over all calls that were not paused or cancelled.",
					vnpost, "operation", "{{operation}}"),
				partnerLatencyPanel("VNPost latency by operation (p95)", "95th percentile of call latency per VNPost operation.",
					vnpost, "operation", "{{operation}}"),
				breakerStatePanel("VNPost breakers now", "0 closed, 1 half-open, 2 open, per VNPost operation (gatewayctl breakers).",
					vnpost, "operation", "{{operation}}"),
			}},
			{title: "Delivery requests", panels: []panel{
				ts("Delivery requests handled by outcome", units.MessagesPerSecond, "Deliveries of the delivery_requested_to_vnpost handler: ok, duplicate, parked (waiting for a retry), dead_lettered, returned (left for after a restart).",
					q(fmt.Sprintf(`sum by (outcome) (rate(gateway_handler_outcomes_total{%s}[%s]))`, handler, ri), "{{outcome}}")),
				ts("Failed delivery request ratio", units.PercentUnit, "Share of the handler's deliveries that ended in an error (then parked, dead-lettered or returned).",
					q(fmt.Sprintf(`sum(rate(gateway_router_handler_duration_seconds_count{%[1]s, success="false"}[%[2]s])) / sum(rate(gateway_router_handler_duration_seconds_count{%[1]s}[%[2]s]))`, handler, ri), "failed")),
				ts("Delivery request handling duration", units.Seconds, "p50, p95 and p99 of the time in the handler, short retries included.",
					quantiles("gateway_router_handler_duration_seconds", "handler", "{"+handler+"}", "{{handler}}")...),
				ts("Delivery requests waiting", units.Short, "Lag (not yet delivered to the handler), pending (delivered, not acknowledged) and parked (waiting in the VNPost retry schedule).",
					q(fmt.Sprintf(`max(gateway_stream_group_lag{%s})`, handler), "lag"),
					q(fmt.Sprintf(`max(gateway_stream_group_pending{%s})`, handler), "pending"),
					q(fmt.Sprintf(`max(gateway_retry_parked_messages{%s})`, handler), "parked")),
				ts("Oldest unacknowledged delivery request", units.Seconds, "Idle time of the oldest delivery request delivered to the handler and not acknowledged.",
					q(fmt.Sprintf(`max(gateway_stream_oldest_pending_age_seconds{%s})`, handler), "oldest")),
				ts("Delivery dead letters by reason", units.Short, "Delivery requests dead-lettered per interval: gatewayctl deadletters list.",
					q(fmt.Sprintf(`sum by (reason) (increase(gateway_deadletters_published_total{%s}[%s]))`, handler, ri), "{{reason}}")),
			}},
		},
	}
}
