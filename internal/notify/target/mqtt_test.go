package target

import (
	"bytes"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// mqttSubscribe subscribes to topic on the broker before anything is
// sent, skipping when the broker is absent; messages arrive on the
// returned channel.
func mqttSubscribe(t *testing.T, topic string) (string, <-chan mqtt.Message) {
	t.Helper()
	addr := serviceAddr("MQTT", "127.0.0.1:1883")
	needService(t, "Mosquitto", addr)
	got := make(chan mqtt.Message, 100)
	opts := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("firn-test-sub-" + suffix(t)).
		SetConnectTimeout(2 * time.Second).SetAutoReconnect(false).SetOrderMatters(true)
	c := mqtt.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(3*time.Second) || tok.Error() != nil {
		t.Skipf("Mosquitto not reachable at %s: %v", addr, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	tok := c.Subscribe(topic, 2, func(_ mqtt.Client, m mqtt.Message) { got <- m })
	if !tok.WaitTimeout(3*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	return addr, got
}

// receive takes n messages from ch, failing t after 5 s.
func receive(t *testing.T, ch <-chan mqtt.Message, n int) []mqtt.Message {
	t.Helper()
	var out []mqtt.Message
	timeout := time.After(5 * time.Second)
	for len(out) < n {
		select {
		case m := <-ch:
			out = append(out, m)
		case <-timeout:
			t.Fatalf("received %d messages, want %d", len(out), n)
		}
	}
	return out
}

func TestMQTTSend(t *testing.T) {
	for _, qos := range []string{"0", "1", "2"} {
		t.Run("qos"+qos, func(t *testing.T) {
			topic := "firn/test/" + suffix(t)
			addr, got := mqttSubscribe(t, topic)
			tg := openTarget(t, Spec{Name: "mqtt", Kind: KindMQTT, URL: "mqtt://" + addr, Options: map[string]string{"topic": topic, "qos": qos}})
			msgs := testMsgs("mqtt-"+suffix(t), 6)
			mustSend(t, tg, msgs)
			for i, m := range receive(t, got, len(msgs)) {
				if !bytes.Equal(m.Payload(), msgs[i].Body) || m.Topic() != topic || m.Retained() {
					t.Errorf("message %d: %s %q retained %v; want %s %q", i, m.Topic(), m.Payload(), m.Retained(), topic, msgs[i].Body)
				}
			}
		})
	}
}

func TestMQTTReconnect(t *testing.T) {
	topic := "firn/test/" + suffix(t)
	addr, got := mqttSubscribe(t, topic)
	p := newProxy(t, addr)
	tg := openTarget(t, Spec{Name: "mqtt", Kind: KindMQTT, URL: "tcp://user:MqttPassw0rd@" + p.Addr(), Timeout: 3 * time.Second,
		Options: map[string]string{"topic": topic}})
	checkReconnect(t, tg, p, "MqttPassw0rd")
	receive(t, got, 4)
}

func TestMQTTRetain(t *testing.T) {
	topic := "firn/test/" + suffix(t)
	addr := serviceAddr("MQTT", "127.0.0.1:1883")
	needService(t, "Mosquitto", addr)
	tg := openTarget(t, Spec{Name: "mqtt", Kind: KindMQTT, URL: "mqtt://" + addr, Options: map[string]string{"topic": topic, "retain": "true"}})
	msgs := testMsgs("retain-"+suffix(t), 2)
	mustSend(t, tg, msgs)
	// A subscriber arriving later gets the last message, retained.
	_, got := mqttSubscribe(t, topic)
	m := receive(t, got, 1)[0]
	if !m.Retained() || !bytes.Equal(m.Payload(), msgs[1].Body) {
		t.Errorf("retained %v %q, want the last message", m.Retained(), m.Payload())
	}
	// Clear the retained message.
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("firn-test-clear-" + suffix(t)))
	if tok := c.Connect(); tok.WaitTimeout(3*time.Second) && tok.Error() == nil {
		c.Publish(topic, 1, true, []byte{}).WaitTimeout(3 * time.Second)
		c.Disconnect(100)
	}
}
