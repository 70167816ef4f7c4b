package target

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"net/url"
	"strconv"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// mqttTarget publishes to an MQTT broker.
type mqttTarget struct {
	base
	broker   string // the URL without user info
	user     string
	password string
	hasUser  bool
	tlsHost  string // set for TLS schemes
	clientID string
	topic    string
	qos      byte
	retain   bool

	guard
	client mqtt.Client
}

func openMQTT(b base) (Target, error) {
	u, err := url.Parse(b.spec.URL)
	if err != nil {
		return nil, b.fail("open", err)
	}
	t := &mqttTarget{
		base:     b,
		topic:    b.spec.Options["topic"],
		retain:   optBool(b.spec.Options, "retain", false),
		clientID: b.spec.Options["client_id"],
		qos:      1,
	}
	if v := b.spec.Options["qos"]; v != "" {
		q, _ := strconv.Atoi(v)
		t.qos = byte(q)
	}
	if u.User != nil {
		t.hasUser = true
		t.user = u.User.Username()
		t.password, _ = u.User.Password()
	}
	switch u.Scheme {
	case "mqtts", "ssl", "tls", "wss":
		t.tlsHost = u.Hostname()
	}
	u.User = nil
	t.broker = u.String()
	if t.clientID == "" {
		id, err := defaultClientID(b.spec.Name)
		if err != nil {
			return nil, b.fail("open", err)
		}
		t.clientID = id
	}
	return t, nil
}

// defaultClientID returns firn-<name>-<random>.
func defaultClientID(name string) (string, error) {
	var r [6]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	return "firn-" + name + "-" + hex.EncodeToString(r[:]), nil
}

// connect makes sure t has a connected client.
func (t *mqttTarget) connect(ctx context.Context) error {
	if t.client != nil && t.client.IsConnectionOpen() {
		return nil
	}
	t.drop()
	opts := mqtt.NewClientOptions().
		AddBroker(t.broker).
		SetClientID(t.clientID).
		SetProtocolVersion(4).
		SetCleanSession(true).
		SetOrderMatters(true).
		// A failed Send drops the client; the next one connects anew.
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetConnectTimeout(t.timeout).
		SetWriteTimeout(t.timeout)
	if t.hasUser {
		opts.SetUsername(t.user).SetPassword(t.password)
	}
	if t.tlsHost != "" {
		opts.SetTLSConfig(&tls.Config{ServerName: t.tlsHost, MinVersion: tls.VersionTLS12})
	}
	c := mqtt.NewClient(opts)
	if err := wait(ctx, c.Connect()); err != nil {
		c.Disconnect(0)
		return err
	}
	t.client = c
	return nil
}

// wait waits for tok or ctx.
func wait(ctx context.Context, tok mqtt.Token) error {
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// drop disconnects the client, if any.
func (t *mqttTarget) drop() {
	if t.client != nil {
		t.client.Disconnect(100)
	}
	t.client = nil
}

// Send publishes msgs and waits for each one's token in order (at QoS 1
// a PUBACK, at QoS 2 a PUBCOMP, at QoS 0 the write).
func (t *mqttTarget) Send(ctx context.Context, msgs []Message) (int, error) {
	return t.send(ctx, &t.guard, msgs, func(ctx context.Context, msgs []Message) (int, error) {
		if err := t.connect(ctx); err != nil {
			return 0, t.fail("connect", err)
		}
		toks := make([]mqtt.Token, len(msgs))
		for i, m := range msgs {
			toks[i] = t.client.Publish(t.topic, t.qos, t.retain, m.Body)
		}
		for i, tok := range toks {
			if err := wait(ctx, tok); err != nil {
				t.drop()
				return i, t.failMsg(msgs, i, err)
			}
		}
		return len(msgs), nil
	})
}

// Close disconnects.
func (t *mqttTarget) Close() error {
	return t.closeWith(func() error { t.drop(); return nil })
}
