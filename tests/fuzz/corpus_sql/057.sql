-- Party step 6E (cleanup, irreversible): WaitlistEntry is Party-only.
-- Self-contained and idempotent: adds and backfills clientPartyId itself when step 5 has not run
-- yet; safe to re-run after a partial failure.
ALTER TABLE "WaitlistEntry" ADD COLUMN IF NOT EXISTS "clientPartyId" INTEGER;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = 'WaitlistEntry' AND column_name = 'contactId') THEN
    UPDATE "WaitlistEntry" t SET "clientPartyId" = p."id" FROM "Party" p
    WHERE t."clientPartyId" IS NULL AND t."contactId" IS NOT NULL AND p."contactId" = t."contactId";
    UPDATE "WaitlistEntry" t SET "clientPartyId" = p."id" FROM "Party" p
    WHERE t."clientPartyId" IS NULL AND t."organizationId" IS NOT NULL AND p."organizationId" = t."organizationId";
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'WaitlistEntry_clientPartyId_fkey') THEN
    ALTER TABLE "WaitlistEntry" ADD CONSTRAINT "WaitlistEntry_clientPartyId_fkey" FOREIGN KEY ("clientPartyId") REFERENCES "Party"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
  END IF;
END $$;

CREATE INDEX CONCURRENTLY IF NOT EXISTS "WaitlistEntry_clientPartyId_idx"
  ON "WaitlistEntry"("clientPartyId");

CREATE INDEX CONCURRENTLY IF NOT EXISTS "WaitlistEntry_tenantId_clientPartyId_idx"
  ON "WaitlistEntry"("tenantId", "clientPartyId");

DROP INDEX CONCURRENTLY IF EXISTS "WaitlistEntry_contactId_idx";

DROP INDEX CONCURRENTLY IF EXISTS "WaitlistEntry_organizationId_idx";

ALTER TABLE "WaitlistEntry" DROP CONSTRAINT IF EXISTS "WaitlistEntry_contactId_fkey";
ALTER TABLE "WaitlistEntry" DROP CONSTRAINT IF EXISTS "WaitlistEntry_organizationId_fkey";
ALTER TABLE "WaitlistEntry" DROP COLUMN IF EXISTS "contactId",
DROP COLUMN IF EXISTS "organizationId",
DROP COLUMN IF EXISTS "partyType";
