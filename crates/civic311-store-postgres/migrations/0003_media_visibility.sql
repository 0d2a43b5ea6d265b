-- Staff photos may be internal: only public media are served to anyone and listed in
-- Open311. Everything stored before this was a resident's photo, hence public.
ALTER TABLE media ADD COLUMN public BIGINT NOT NULL DEFAULT 1;
