-- First start of the compose PostgreSQL: the owner role of the application's database.
-- It runs the migrations, which create the restricted roles `engagement_app` and
-- `engagement_outbox` (hence CREATEROLE), and it creates the servers' login role
-- afterwards (deploy/app-login.sql).
CREATE ROLE engagement_owner LOGIN PASSWORD 'owner-password' CREATEROLE;
CREATE DATABASE engagement OWNER engagement_owner;
