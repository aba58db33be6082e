"""Route handlers, split by audience: public, accounts, organiser, door, open-space board,
invitations, API.
No controller module imports another: what two share lives outside web/controllers/."""

from litestar.types import ControllerRouterHandler

from web.controllers.accounts import AccountController
from web.controllers.api_organiser import OrganiserApiController
from web.controllers.api_public import PublicApiController
from web.controllers.api_tokens import ApiTokensController
from web.controllers.board_facilitate import BoardFacilitateController
from web.controllers.board_participant import BoardParticipantController
from web.controllers.board_public import BoardPublicController
from web.controllers.confirmations import ConfirmationController
from web.controllers.door_live import DoorLiveController
from web.controllers.door_offline import DoorOfflineController
from web.controllers.door_scan import DoorScanController
from web.controllers.door_scanner import DoorScannerController
from web.controllers.embed import EmbedController
from web.controllers.feedback import FeedbackController, ManageFeedbackController
from web.controllers.feeds import FeedsController
from web.controllers.follows import ROUTE_HANDLERS as FOLLOW_HANDLERS
from web.controllers.health import healthz, readyz
from web.controllers.invitations import InvitationController
from web.controllers.manage import ManageController
from web.controllers.manage_attendees import ManageAttendeesController
from web.controllers.manage_board import ManageBoardController
from web.controllers.manage_door import ManageDoorController
from web.controllers.manage_events import ManageEventsController
from web.controllers.manage_imports import ManageImportsController
from web.controllers.manage_offers import ManageOffersController, ManageSeriesOffersController
from web.controllers.manage_outbox import ManageOutboxController
from web.controllers.manage_proposals import ManageModerationController, ManageProposalsController
from web.controllers.manage_questions import (
    ManageQuestionsController,
    ManageSeriesQuestionsController,
)
from web.controllers.manage_series import ManageSeriesController
from web.controllers.manage_venues import ManageVenuesController
from web.controllers.manage_volunteers import ManageVolunteersController
from web.controllers.manage_webhooks import ManageWebhooksController
from web.controllers.offers import (
    OfferMailsController,
    OffersController,
    PublicOffersController,
)
from web.controllers.proposal_calls import ProposalCallsController
from web.controllers.proposals import ProposalsController, take_part_with_ticket
from web.controllers.proposers import ProposerController
from web.controllers.public import switch_language
from web.controllers.public_events import PublicEventsController
from web.controllers.registrations import RegistrationController
from web.controllers.statistics import ManageStatisticsController, StatisticsController
from web.controllers.volunteers import VolunteerController

ROUTE_HANDLERS: list[ControllerRouterHandler] = [
    healthz,
    readyz,
    switch_language,
    PublicEventsController,
    RegistrationController,
    StatisticsController,
    ManageStatisticsController,
    VolunteerController,
    OffersController,
    PublicOffersController,
    OfferMailsController,
    FeedsController,
    FeedbackController,
    ManageFeedbackController,
    ProposalCallsController,
    ProposalsController,
    take_part_with_ticket,
    ConfirmationController,
    ProposerController,
    *FOLLOW_HANDLERS,
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
    ManageSeriesQuestionsController,
    ManageOffersController,
    ManageSeriesOffersController,
    ManageOutboxController,
    ManageProposalsController,
    ManageModerationController,
    ManageSeriesController,
    ManageVenuesController,
    ManageVolunteersController,
    ManageWebhooksController,
    AccountController,
    ManageController,
    InvitationController,
    PublicApiController,
    EmbedController,
    OrganiserApiController,
    ApiTokensController,
]
