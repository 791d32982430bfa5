// HTTP-POST binding: send the SAML message at once; the button stays for browsers without scripts.
document.getElementById("ent-autopost").submit();
