DROP TABLE webhook_replays;
DROP TABLE webhook_fanout;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
