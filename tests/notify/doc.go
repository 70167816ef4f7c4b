// Package notify tests event notifications end to end against the real
// brokers of this machine kind (NATS with JetStream, RabbitMQ): that no
// event is lost while a broker is down or across a kill -9 of firn, and
// scenario B's restore consumer. Tests skip when a broker is absent,
// unless FIRN_REQUIRE_SERVICES=1 (as CI sets it).
package notify
