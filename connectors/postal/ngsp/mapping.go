package ngsp

import "github.com/egov-vn/gateway/connectors/postal"

// statusCodes maps the tracking StatusCode to the shipment statuses [assumed].
var statusCodes = map[string]postal.Status{
	"00": postal.StatusDraft,
	"01": postal.StatusCreated,
	"02": postal.StatusPickingUp,
	"03": postal.StatusPickupFailed,
	"04": postal.StatusPickedUp,
	"05": postal.StatusAtPostOffice,
	"06": postal.StatusInTransit,
	"07": postal.StatusDelivering,
	"08": postal.StatusDelivered,
	"09": postal.StatusDeliveryFailed,
	"10": postal.StatusReturning,
	"11": postal.StatusCompleted,
	"12": postal.StatusDeliveryCanceled,
}

// StatusOf maps an NGSP tracking StatusCode; false when the code is unknown.
func StatusOf(code string) (postal.Status, bool) {
	s, ok := statusCodes[code]
	return s, ok
}
