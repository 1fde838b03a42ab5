-- The list's filters and the catalog's counts per app read these three
-- columns only: a covering index spares them reading whole rows (parameters
-- included) for every instance.
CREATE INDEX instances_by_app_status_namespace ON instances (app, status, namespace);
