CREATE TABLE "prescriptions" (
	"id" varchar PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"patient_id" varchar NOT NULL REFERENCES "patients"("id"),
	"company_id" varchar NOT NULL REFERENCES "companies"("id"),
	"od_sphere" numeric(5, 2),
	"od_cylinder" numeric(5, 2),
	"od_axis" integer,
	"os_sphere" numeric(5, 2),
	"os_cylinder" numeric(5, 2),
	"os_axis" integer,
	"pd" numeric(4, 1),
	"issued_at" timestamptz DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "eye_examinations" (
	"id" varchar PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"patient_id" varchar NOT NULL REFERENCES "patients"("id"),
	"company_id" varchar NOT NULL REFERENCES "companies"("id"),
	"examined_at" timestamptz DEFAULT now() NOT NULL,
	"findings" text
);
--> statement-breakpoint
CREATE TABLE "invoices" (
	"id" varchar PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"order_id" varchar REFERENCES "orders"("id"),
	"company_id" varchar NOT NULL REFERENCES "companies"("id"),
	"amount_pence" integer NOT NULL,
	"status" varchar(16) DEFAULT 'draft' NOT NULL,
	"created_at" timestamptz DEFAULT now() NOT NULL
);
