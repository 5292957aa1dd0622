#!/usr/bin/env bash
# Rewrites a wabill log (CSV, the columns `synth` writes) as a Twilio Console "Export CSV" of
# Messaging logs (tests/fixtures/providers/README.md): From/To with `whatsapp:`, Twilio's
# directions and statuses, no type, category, entry point or country; a template's Body is a
# text of the catalogue tests/fixtures/providers/templates.json so that `--templates` finds it.
#   scripts/to-twilio.sh LOG.csv > export.csv
set -euo pipefail
awk -F, 'BEGIN { OFS = ","
  print "From,To,Body,Status,SentDate,ApiVersion,NumSegments,ErrorCode,AccountSid,Sid,Direction,Price,PriceUnit" }
NR == 1 { next }
{
  ts = $1; dir = $2; user = $3; type = $4; cat = $5; st = $6; num = $9; id = $11
  if (dir == "in") {
    print "whatsapp:" user, "whatsapp:" num, "\"Hi, a question about my order\"", "received", ts, "2010-04-01", 1, "", "AC0", id, "inbound", "-0.00500", "USD"
    next
  }
  if (type == "template" && cat == "utility") body = "Your order #" NR " has shipped. Track it here: https://shop.example/t/" NR
  else if (type == "template" && cat == "authentication") body = NR " is your verification code. For your security, do not share this code."
  else if (type == "template" && cat == "marketing") body = "Black Friday chegou! 30% de desconto em todo o site até domingo. Responda SAIR para não receber ofertas."
  else body = "Thanks for writing. We are looking into it."
  status = (st == "failed") ? "undelivered" : "delivered"
  print "whatsapp:" num, "whatsapp:" user, "\"" body "\"", status, ts, "2010-04-01", 1, "", "AC0", id, "outbound-api", "-0.00500", "USD"
}' "$1"
