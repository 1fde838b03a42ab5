-- An uninstall may delete the Flink cluster's savepoints too: the directory it
-- deletes (e.g. s3://flink/streaming/analytics/savepoints), recorded when it is
-- asked for; NULL keeps them, as every other operation does.
ALTER TABLE operations ADD COLUMN deletes_savepoints TEXT;
