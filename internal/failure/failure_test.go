package failure

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		err      error
		want     Kind
		breakerW bool
	}{
		{"unknown error is transient", errors.New("boom"), Transient, true},
		{"cancel is shutdown", fmt.Errorf("calling: %w", context.Canceled), Shutdown, false},
		{"deadline is transient", fmt.Errorf("calling: %w", context.DeadlineExceeded), Transient, true},
		{"5xx transient", &StatusError{"dvcqg", "sync", 503}, Transient, true},
		{"429 transient", &StatusError{"dvcqg", "sync", 429}, Transient, true},
		{"400 permanent", &StatusError{"dvcqg", "sync", 400}, Permanent, false},
		{"404 permanent", fmt.Errorf("x: %w", &StatusError{"dvcqg", "sync", 404}), Permanent, false},
		{"401 transient", &StatusError{"dvcqg", "sync", 401}, Transient, true},
		{"protocol retryable", &ProtocolError{"dvcqg", "sync", "99", true}, Transient, true},
		{"protocol not retryable", &ProtocolError{"dvcqg", "sync", "01", false}, Permanent, false},
		{"net error transient", &net.OpError{Op: "dial", Err: errors.New("refused")}, Transient, true},
		{"mark permanent wins over 5xx", MarkPermanent(&StatusError{"p", "o", 500}), Permanent, false},
		{"mark transient wins over 400", MarkTransient(&StatusError{"p", "o", 400}), Transient, true},
		{"paused is transient but not a breaker failure", fmt.Errorf("x: %w", ErrPartnerPaused), Transient, false},
		{"permanentf", Permanentf("bad %s", "data"), Permanent, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Classify(tt.err); got != tt.want {
				t.Fatalf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
			if got := CountsAgainstPartner(tt.err); got != tt.breakerW {
				t.Fatalf("CountsAgainstPartner(%v) = %v, want %v", tt.err, got, tt.breakerW)
			}
		})
	}
}
