-- What a running operation is waiting for, shown on the instance page
-- (for example "waiting for finalizer X on FlinkDeployment Y").
ALTER TABLE operations ADD COLUMN progress TEXT;
