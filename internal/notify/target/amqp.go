package target

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// amqpTarget publishes to an AMQP 0-9-1 broker with publisher confirms.
type amqpTarget struct {
	base
	exchange     string
	exchangeType string
	routingKey   string // "" = the event name
	queue        string
	mandatory    bool

	guard
	conn    *amqp.Connection
	ch      *amqp.Channel
	returns chan amqp.Return
}

func openAMQP(b base) (Target, error) {
	o := b.spec.Options
	t := &amqpTarget{
		base:         b,
		exchange:     o["exchange"],
		exchangeType: optDefault(o, "exchange_type", "topic"),
		routingKey:   o["routing_key"],
		queue:        o["declare_queue"],
		mandatory:    optBool(o, "mandatory", true),
	}
	if t.exchange == "" && t.routingKey == "" {
		t.routingKey = t.queue
	}
	return t, nil
}

// connect makes sure t has an open channel in confirm mode, with the
// exchange and queue declared.
func (t *amqpTarget) connect(ctx context.Context) error {
	if t.conn != nil && !t.conn.IsClosed() && t.ch != nil && !t.ch.IsClosed() {
		return nil
	}
	t.drop()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(t.timeout)
	}
	cfg := amqp.Config{
		Properties: amqp.Table{"connection_name": "firn-" + t.spec.Name},
		Dial: func(network, addr string) (net.Conn, error) {
			d := net.Dialer{Deadline: deadline}
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// Bounds the TLS and AMQP handshakes; cleared once open.
			if err := c.SetDeadline(deadline); err != nil {
				c.Close()
				return nil, err
			}
			return c, nil
		},
	}
	conn, err := amqp.DialConfig(t.spec.URL, cfg)
	if err != nil {
		return err
	}
	// Channel operations take no context: closing the connection when
	// ctx ends unblocks them.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	ch, err := t.setup(conn)
	if err != nil {
		conn.Close()
		return err
	}
	t.conn, t.ch = conn, ch
	return nil
}

// setup opens the channel and declares what the options ask for.
func (t *amqpTarget) setup(conn *amqp.Connection) (*amqp.Channel, error) {
	ch, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	if err := ch.Confirm(false); err != nil {
		return nil, fmt.Errorf("confirm mode: %w", err)
	}
	if t.exchange != "" && !strings.HasPrefix(t.exchange, "amq.") {
		if err := ch.ExchangeDeclare(t.exchange, t.exchangeType, true, false, false, false, nil); err != nil {
			return nil, fmt.Errorf("declare exchange %s: %w", t.exchange, err)
		}
	}
	if t.queue != "" {
		if _, err := ch.QueueDeclare(t.queue, true, false, false, false, nil); err != nil {
			return nil, fmt.Errorf("declare queue %s: %w", t.queue, err)
		}
		if t.exchange != "" {
			key := t.routingKey
			if key == "" {
				key = "#"
			}
			if err := ch.QueueBind(t.queue, key, t.exchange, false, nil); err != nil {
				return nil, fmt.Errorf("bind queue %s to %s: %w", t.queue, t.exchange, err)
			}
		}
	}
	// Returns (unroutable mandatory messages) come before their confirm;
	// Send drains them while it waits for confirms.
	t.returns = ch.NotifyReturn(make(chan amqp.Return, 1024))
	return ch, nil
}

// drop closes the connection, if any.
func (t *amqpTarget) drop() {
	if t.conn != nil {
		t.conn.Close()
	}
	t.conn, t.ch, t.returns = nil, nil, nil
}

// Send publishes msgs and awaits their confirms in order.
func (t *amqpTarget) Send(ctx context.Context, msgs []Message) (int, error) {
	return t.send(ctx, &t.guard, msgs, func(ctx context.Context, msgs []Message) (int, error) {
		if err := t.connect(ctx); err != nil {
			t.drop()
			return 0, t.fail("connect", err)
		}
		n, err := t.publish(ctx, msgs)
		if err != nil {
			t.drop()
			return n, t.failMsg(msgs, n, err)
		}
		return n, nil
	})
}

// publish sends msgs and waits for their confirms; it returns how many
// were confirmed before the first failure.
func (t *amqpTarget) publish(ctx context.Context, msgs []Message) (int, error) {
	confirms := make([]*amqp.DeferredConfirmation, 0, len(msgs))
	var pubErr error
	for _, m := range msgs {
		key := t.routingKey
		if key == "" {
			key = m.Event
		}
		dc, err := t.ch.PublishWithDeferredConfirmWithContext(ctx, t.exchange, key, t.mandatory, false, amqp.Publishing{
			ContentType:  "application/json",
			DeliveryMode: amqp.Persistent,
			MessageId:    m.ID,
			Type:         m.Event,
			Timestamp:    time.Now(),
			Body:         m.Body,
		})
		if err != nil {
			pubErr = err
			break
		}
		confirms = append(confirms, dc)
	}
	returned := map[string]bool{}
	for i, dc := range confirms {
		if err := t.await(ctx, dc, returned); err != nil {
			return i, err
		}
		if !dc.Acked() {
			return i, errors.New("broker refused the message (nack)")
		}
		if returned[msgs[i].ID] {
			return i, errors.New("message returned unroutable: no queue is bound for it")
		}
	}
	if pubErr != nil {
		return len(confirms), pubErr
	}
	return len(msgs), nil
}

// await waits for dc, recording the message IDs of returned messages.
func (t *amqpTarget) await(ctx context.Context, dc *amqp.DeferredConfirmation, returned map[string]bool) error {
	for {
		select {
		case r, ok := <-t.returns:
			if !ok {
				return errors.New("channel closed")
			}
			returned[r.MessageId] = true
		case <-dc.Done():
			// A return precedes its confirm: take those queued.
			for {
				select {
				case r, ok := <-t.returns:
					if !ok {
						return nil
					}
					returned[r.MessageId] = true
				default:
					return nil
				}
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close closes the connection.
func (t *amqpTarget) Close() error {
	return t.closeWith(func() error { t.drop(); return nil })
}
