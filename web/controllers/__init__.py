"""Route handlers, split by audience: public, accounts, organiser, door, open-space board,
invitations, API.
No controller module imports another: what two share lives outside web/controllers/."""

from web.controllers.accounts import AccountController
from web.controllers.api import ApiController
from web.controllers.board_facilitate import BoardFacilitateController
from web.controllers.board_participant import BoardParticipantController
from web.controllers.board_public import BoardPublicController
from web.controllers.door_live import DoorLiveController
from web.controllers.door_offline import DoorOfflineController
from web.controllers.door_scan import DoorScanController
from web.controllers.door_scanner import DoorScannerController
from web.controllers.feeds import FeedsController
from web.controllers.health import healthz, readyz
from web.controllers.invitations import InvitationController
from web.controllers.manage import ManageController
from web.controllers.manage_attendees import ManageAttendeesController
from web.controllers.manage_board import ManageBoardController
from web.controllers.manage_door import ManageDoorController
from web.controllers.manage_events import ManageEventsController
from web.controllers.manage_imports import ManageImportsController
from web.controllers.manage_outbox import ManageOutboxController
from web.controllers.manage_questions import ManageQuestionsController
from web.controllers.manage_series import ManageSeriesController
from web.controllers.manage_venues import ManageVenuesController
from web.controllers.public import switch_language
from web.controllers.public_events import PublicEventsController
from web.controllers.registrations import RegistrationController

ROUTE_HANDLERS = [
    healthz,
    readyz,
    switch_language,
    PublicEventsController,
    RegistrationController,
    FeedsController,
    ManageEventsController,
    ManageImportsController,
    ManageAttendeesController,
    ManageDoorController,
    ManageBoardController,
    BoardPublicController,
    BoardParticipantController,
    BoardFacilitateController,
    DoorScannerController,
    DoorScanController,
    DoorLiveController,
    DoorOfflineController,
    ManageQuestionsController,
    ManageOutboxController,
    ManageSeriesController,
    ManageVenuesController,
    AccountController,
    ManageController,
    InvitationController,
    ApiController,
]
