ALTER TABLE "orders" ADD COLUMN "tracking_number" text;
--> statement-breakpoint
CREATE INDEX "orders_created_at_idx" ON "orders" ("created_at");
