package testenv

import (
	"net"
	"os"
	"testing"
	"time"
)

// Service returns addr when a TCP service answers there. Otherwise it
// skips t with a message naming the service, or fails t when
// FIRN_REQUIRE_SERVICES=1 (as CI sets it: .ci/run starts every service
// the tests use).
func Service(t testing.TB, name, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		c.Close()
		return addr
	}
	if os.Getenv("FIRN_REQUIRE_SERVICES") == "1" {
		t.Fatalf("%s not reachable at %s (FIRN_REQUIRE_SERVICES=1): %v", name, addr, err)
	}
	t.Skipf("%s not reachable at %s: %v", name, addr, err)
	return ""
}
