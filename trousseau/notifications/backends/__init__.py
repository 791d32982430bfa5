"""SMS backends named by `SMS_BACKEND`: the dev outbox twin and real gateways."""
