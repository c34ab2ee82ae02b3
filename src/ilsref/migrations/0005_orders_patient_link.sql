-- ILS's orders reach the patient through patient_id only (no patient name or birth date copy).
UPDATE "orders" o SET "patient_id" = (
	SELECT p."id" FROM "patients" p WHERE p."company_id" = o."company_id"
	AND lower(p."name") = lower(o."patient_name") ORDER BY p."created_at" LIMIT 1
) WHERE o."patient_id" IS NULL;
--> statement-breakpoint
DELETE FROM "orders" WHERE "patient_id" IS NULL;
--> statement-breakpoint
ALTER TABLE "orders" ALTER COLUMN "patient_id" SET NOT NULL;
--> statement-breakpoint
ALTER TABLE "orders" DROP COLUMN "patient_name";
--> statement-breakpoint
ALTER TABLE "orders" DROP COLUMN "patient_dob";
