"""Staff administration in the console (issue #19): heads add and remove their secretaries and readers;
the académie operator adds any school role, resets an access (lost second factor) and removes one."""
