package routing

import (
	"context"
	"fmt"

	"github.com/egov-vn/gateway/internal/events"
)

// ProcedureResolver turns the procedure code the one-stop system sent (MaTTHC) into the national
// MaTTHC: a national code as it is, a local code through the mapping ops keep (internal/catalog).
// A local code without a mapping is a permanent error naming the code.
type ProcedureResolver interface {
	ResolveProcedure(ctx context.Context, code string) (string, error)
}

// mapProcedure replaces a local procedure code with its national one before the dossier is sent.
// An unmapped code fails the message for good: it is dead-lettered with a reason naming the code,
// and the one-stop system hears of it (dossier.sync_failed), rather than the portal getting a code
// it does not know. Once ops set the mapping, replaying the dead letter sends the dossier.
func (h *dossierSync) mapProcedure(ctx context.Context, sc *events.StatusChanged) error {
	if h.procedures == nil {
		return nil
	}
	national, err := h.procedures.ResolveProcedure(ctx, sc.Dossier.ProcedureCode)
	if err != nil {
		return fmt.Errorf("mapping the procedure code: %w", err)
	}
	sc.Dossier.ProcedureCode = national
	return nil
}
