-- One database per service, as deploy/local/postgres.sh creates them.
CREATE DATABASE rcm_eligibility;
CREATE DATABASE rcm_claims;
CREATE DATABASE rcm_remittance;
CREATE DATABASE rcm_denials;
CREATE DATABASE rcm_authorizations;
CREATE DATABASE rcm_sandbox;
CREATE DATABASE rcm_test;
