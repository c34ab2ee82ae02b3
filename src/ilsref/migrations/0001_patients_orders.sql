CREATE TABLE "patients" (
	"id" varchar PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"company_id" varchar NOT NULL REFERENCES "companies"("id"),
	"customer_number" varchar(32) NOT NULL,
	"name" text NOT NULL,
	"date_of_birth" date,
	"email" text,
	"phone" text,
	"nhs_number" varchar(10),
	"address" text,
	"city" text,
	"postcode" varchar(16),
	"customer_reference_label" text,
	"customer_reference_number" text,
	"created_at" timestamptz DEFAULT now() NOT NULL,
	"updated_at" timestamptz DEFAULT now() NOT NULL,
	CONSTRAINT "patients_customer_number_unique" UNIQUE("customer_number")
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"id" varchar PRIMARY KEY DEFAULT gen_random_uuid()::text NOT NULL,
	"order_number" varchar(32) NOT NULL,
	"company_id" varchar NOT NULL REFERENCES "companies"("id"),
	"patient_id" varchar REFERENCES "patients"("id"),
	"ecp_id" varchar REFERENCES "users"("id"),
	"patient_name" text NOT NULL,
	"patient_dob" date,
	"status" varchar(32) DEFAULT 'pending' NOT NULL,
	"lens_type" text NOT NULL,
	"lens_material" text NOT NULL,
	"coating" text NOT NULL,
	"frame_type" text,
	"od_sphere" numeric(5, 2),
	"od_cylinder" numeric(5, 2),
	"od_axis" integer,
	"od_add" numeric(4, 2),
	"os_sphere" numeric(5, 2),
	"os_cylinder" numeric(5, 2),
	"os_axis" integer,
	"os_add" numeric(4, 2),
	"pd" numeric(4, 1),
	"notes" text,
	"created_at" timestamptz DEFAULT now() NOT NULL,
	"updated_at" timestamptz DEFAULT now() NOT NULL,
	CONSTRAINT "orders_order_number_unique" UNIQUE("order_number")
);
--> statement-breakpoint
CREATE INDEX "orders_company_status_idx" ON "orders" ("company_id", "status");
--> statement-breakpoint
CREATE INDEX "patients_company_idx" ON "patients" ("company_id");
