package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func testAudit(t *testing.T, s gatehouse.Store) {
	events := []gatehouse.AuditEvent{
		{At: T0, Type: gatehouse.EventLoginFailed, UserID: "user-alice", IP: "192.0.2.1", Detail: "wrong password"},
		{At: T0.Add(time.Second), Type: gatehouse.EventLoginFailed, IP: "192.0.2.2", Detail: "unknown email"},
		{At: T0.Add(2 * time.Second), Type: gatehouse.EventLogout, UserID: "user-bob", IP: "2001:db8::1"},
		// Same time as the one before: order is the order of recording.
		{At: T0.Add(2 * time.Second), Type: gatehouse.EventLoginSucceeded, UserID: "user-alice", IP: "192.0.2.1"},
	}
	for _, ev := range events {
		if err := s.RecordAudit(t.Context(), ev); err != nil {
			t.Fatalf("RecordAudit(%+v) = %v, want nil", ev, err)
		}
	}

	tests := []struct {
		name   string
		userID string
		limit  int
		want   []gatehouse.AuditEvent
	}{
		{name: "everyone", limit: 10, want: []gatehouse.AuditEvent{events[3], events[2], events[1], events[0]}},
		{name: "everyone, limited", limit: 2, want: []gatehouse.AuditEvent{events[3], events[2]}},
		{name: "one user", userID: "user-alice", limit: 10, want: []gatehouse.AuditEvent{events[3], events[0]}},
		{name: "one user, limited", userID: "user-alice", limit: 1, want: []gatehouse.AuditEvent{events[3]}},
		{name: "a user with none", userID: "user-carol", limit: 10, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListAudit(t.Context(), tt.userID, tt.limit)
			if err != nil {
				t.Fatalf("ListAudit = %v, want nil", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ListAudit(%q, %d) = %+v, want %+v", tt.userID, tt.limit, got, tt.want)
			}
			for i := range got {
				checkEvent(t, fmt.Sprintf("ListAudit[%d]", i), got[i], tt.want[i])
			}
		})
	}
}
