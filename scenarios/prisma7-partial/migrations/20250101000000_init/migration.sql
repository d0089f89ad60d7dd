-- CreateTable
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- Seed (the application has users by the time the next migration runs)
INSERT INTO "User" ("name") VALUES ('ada');
