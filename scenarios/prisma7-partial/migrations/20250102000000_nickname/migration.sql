-- AlterTable
ALTER TABLE "User" ADD COLUMN "age" INTEGER;

-- Backfill: fails on a name that is not a number
UPDATE "User" SET "age" = "name"::integer;

-- CreateIndex
CREATE INDEX CONCURRENTLY "User_age_idx" ON "User"("age");
