package main

import (
	"context"
	"errors"

	"healthcode"
	"healthcode/exchange"
	"healthcode/postgres"
	"healthcode/sms"
	"healthcode/workers"
)

// runWorker runs the asynq server, the scheduler and the outbox relay until
// ctx ends.
func runWorker(ctx context.Context, cfg Config) error {
	log := cfg.logger()
	cfg.CodeCache = 0 // nothing authenticates residents here
	p, err := openPlatform(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer p.close()
	if err := p.listen(ctx); err != nil {
		return nil // stopped before the database answered
	}
	return p.runWorkers(ctx)
}

// smsSender picks the SMS adapter: the gateway when SMS_GATEWAY_URL is set,
// the dev sender (messages readable through devMessages) in dev mode.
func (p *platform) smsSender() (healthcode.SMSSender, error) {
	if p.cfg.SMSGatewayURL != "" {
		return sms.New(sms.Config{URL: p.cfg.SMSGatewayURL, Token: p.cfg.SMSGatewayToken, Timeout: p.cfg.SMSGatewayTimeout})
	}
	if p.cfg.Dev {
		return &postgres.DevSMSSender{DB: p.db}, nil
	}
	return nil, errors.New("SMS_GATEWAY_URL is required outside dev mode")
}

func (p *platform) runWorkers(ctx context.Context) error {
	sender, err := p.smsSender()
	if err != nil {
		return err
	}
	cfg := workers.Config{
		RedisURL: p.cfg.RedisURL, Concurrency: p.cfg.WorkerConcurrency, Logger: p.log, Outbox: p.db, Clock: p.db.Clock,
		Deps: workers.Deps{SMS: p.db, Sender: sender, Purger: p.db, Codes: p.db, DataPurger: p.db, Retention: p.cfg.Retention,
			Supervision: p.svc.supervision, Rankings: p.svc.rankings, Tickets: p.svc.tickets, Indicators: p.svc.indicators,
			Anchors: p.anchors},
		ShutdownTimeout: p.cfg.WorkerGrace,
		Lease:           p.cfg.OutboxLease,
		RedeliverAfter:  p.cfg.OutboxRedeliverAfter,
		Listener:        p.listener,
	}
	if p.cfg.NationalPushURL != "" {
		key, err := p.cfg.loadNationalKey()
		if err != nil {
			return err
		}
		cfg.Deps.National = &postgres.NationalPush{DB: p.db, Key: key,
			Sender: &exchange.Client{URL: p.cfg.NationalPushURL, KeyID: "61-national-push"}}
	}
	return workers.Run(ctx, cfg)
}
