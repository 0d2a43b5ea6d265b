-- Every configuration write bumps config_version (in its own transaction); announcing
-- the new version on commit lets every app node LISTENing reload at once instead of
-- at its next poll. Writers need do nothing more, whoever they are (the API, the
-- administration pages, `civic311 import`).
CREATE FUNCTION civic311_config_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('civic311_config', NEW.version::text);
    RETURN NEW;
END
$$;
CREATE TRIGGER config_version_notify AFTER UPDATE ON config_version
    FOR EACH ROW EXECUTE FUNCTION civic311_config_notify();
