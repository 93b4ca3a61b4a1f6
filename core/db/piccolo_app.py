"""Piccolo app holding every core table and the core migrations."""

import os

from piccolo.conf.apps import AppConfig

from core.access.tables import ApiClient, ApiToken
from core.audit.tables import AuditEntry
from core.consent.tables import BreakGlassDeclaration, CareTeamMember, ConsentRecord, ConsentRequest
from core.events.tables import ActionProposal, Event
from core.financing.tables import FundingLine, FundingLineEvent, FundingRequest, TenantSetting
from core.followup.tables import ReadmissionCheck
from core.identity.accounts_tables import OidcLoginRequest, UserAccount, WebSession
from core.identity.directory_tables import (
    CarerLink,
    IdentityProvider,
    Membership,
    Organisation,
    Professional,
)
from core.identity.idp.tables import (
    IdpAccessToken,
    IdpAccount,
    IdpAuthorizationCode,
    IdpClient,
    IdpSigningKey,
)
from core.identity.tables import Person
from core.marketplace.tables import OfferCoverage, ServiceOffer, ServiceOrder
from core.notifications.tables import Notification
from core.outbox.tables import OutboxMessage
from core.proposals.tables import ActionLink, ProposalComment, ProposalFunding, ProposalHistory
from core.records.tables import PersonDocument, PersonNote
from core.tenancy.tables import Tenant
from core.vault.tables import PersonKey, TenantKey

APP_CONFIG = AppConfig(
    app_name="core",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[
        Tenant,
        ApiClient,
        ApiToken,
        Person,
        Event,
        ActionProposal,
        OutboxMessage,
        IdpAccount,
        IdpClient,
        IdpAuthorizationCode,
        IdpAccessToken,
        IdpSigningKey,
        AuditEntry,
        UserAccount,
        WebSession,
        OidcLoginRequest,
        Organisation,
        Professional,
        Membership,
        CarerLink,
        IdentityProvider,
        TenantKey,
        PersonKey,
        ConsentRecord,
        CareTeamMember,
        ConsentRequest,
        BreakGlassDeclaration,
        PersonNote,
        PersonDocument,
        Notification,
        ProposalHistory,
        ProposalComment,
        ActionLink,
        ProposalFunding,
        ReadmissionCheck,
        ServiceOffer,
        OfferCoverage,
        ServiceOrder,
        TenantSetting,
        FundingRequest,
        FundingLine,
        FundingLineEvent,
    ],
    migration_dependencies=[],
    commands=[],
)
