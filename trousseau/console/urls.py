from django.urls import path

from trousseau.console.views import accounts, auth, contests, followup, imports, letter_emails, letters, schools, staff

app_name = "console"
SCHOOL = "etablissements/<str:uai>/"
ACCOUNT = SCHOOL + "comptes/<int:account_id>/"
urlpatterns = [
    path("", schools.home, name="home"),
    path("connexion/", auth.login_view, name="login"),
    path("connexion/code/", auth.code_view, name="code"),
    path("inscription/", auth.enrol_view, name="enrol"),
    path("inscription/<str:token>/", auth.enrol_link, name="enrol_link"),
    path("deconnexion/", auth.logout_view, name="logout"),
    path("etablissements/", schools.picker, name="schools"),
    path("etablissements/suivi.csv", followup.schools_csv, name="schools_csv"),
    path(SCHOOL, schools.school_home, name="school"),
    path(SCHOOL + "journal/", schools.journal_view, name="journal"),
    path(SCHOOL + "contact/", schools.contact_view, name="school_contact"),
    path(SCHOOL + "comptes/", accounts.search, name="search"),
    path(ACCOUNT, accounts.detail, name="account"),
    path(ACCOUNT + "reinitialiser/", accounts.reset, name="reset"),
    path(ACCOUNT + "reinitialiser/confirmer/", accounts.confirm, {"action": "reset"}, name="reset_confirm"),
    path(ACCOUNT + "courrier/", accounts.letter, name="letter"),
    path(ACCOUNT + "courriers-famille/", accounts.pupil_letters, name="pupil_letters"),
    path(ACCOUNT + "desactiver/", accounts.disable, name="disable"),
    path(ACCOUNT + "desactiver/confirmer/", accounts.confirm, {"action": "disable"}, name="disable_confirm"),
    path(ACCOUNT + "reactiver/", accounts.enable, name="enable"),
    path(ACCOUNT + "responsables/<int:guardian_id>/", accounts.contact, name="contact"),
    path(SCHOOL + "signalements/", contests.contests, name="contests"),
    path(SCHOOL + "signalements/<int:contest_id>/", contests.resolve, name="resolve"),
    path(SCHOOL + "courriers/", letters.letters_view, name="letters"),
    path(SCHOOL + "courriers/courriel/", letter_emails.send_view, name="letter_emails"),
    path(SCHOOL + "courriers/envois/", letter_emails.batches_view, name="letter_email_batches"),
    path(SCHOOL + "courriers/envois/<uuid:batch_id>/", letter_emails.batch_view, name="letter_email_batch"),
    path(SCHOOL + "import/", imports.import_view, name="import"),
    path(SCHOOL + "import/<uuid:pending_id>/confirmer/", imports.confirm, name="import_confirm"),
    path(SCHOOL + "import/suivi/<uuid:job_id>/", imports.job_page, name="import_job"),
    path(SCHOOL + "import/suivi/<uuid:job_id>/etat/", imports.job_status, name="import_job_status"),
    path(SCHOOL + "suivi/", followup.dashboard, name="followup"),
    path(SCHOOL + "suivi.csv", followup.dashboard_csv, name="followup_csv"),
    path(SCHOOL + "suivi/en-attente/", followup.waiting_view, name="waiting"),
    path(SCHOOL + "suivi/en-attente.csv", followup.waiting_csv, name="waiting_csv"),
    path(SCHOOL + "suivi-chronologie.csv", followup.timeline_csv, name="timeline_csv"),
    path(SCHOOL + "personnel/", staff.staff_list, name="staff"),
    path(SCHOOL + "personnel/ajouter/", staff.staff_add, name="staff_add"),
    path(SCHOOL + "personnel/<int:member_id>/reinitialiser/", staff.staff_reset, name="staff_reset"),
    path(SCHOOL + "personnel/<int:member_id>/retirer/", staff.staff_remove, name="staff_remove"),
]
