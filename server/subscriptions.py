"""Subscriptions over WebSocket: Strawberry's graphql-transport-ws on `/graphql`.

`LiveEndpoint` is Strawberry's ASGI view, for WebSocket only (the HTTP endpoint answers every
other request), with laborhub's rules added where the protocol lets them in:

- `connection_init` is where the client says who it is, with what a request sends as
  headers: `{"Authorization": "Bearer <token>"}` (or `authorization`) or `{"x-api-key": ...}`
  (or `X-API-Key`), checked by the same `Authenticator` (failures counted per address as
  for HTTP). Credentials that can't be accepted close the socket with 4403 and the reason;
  no credentials is an anonymous connection (which may subscribe to nothing yet).
- A principal holds at most `max_connections_per_principal` connections at once across every
  process (`server.shared_limits.ConnectionSlots`; another closes with 4429), and a
  connection at most `max_subscriptions_per_connection` operations (another is answered with
  an `error` message for its id; the connection stays).
- Each `subscribe` names its document as an HTTP request does (`server.persisted`): its
  `query`, or `extensions.persistedQuery` with the hash of a stored one, or both (stored
  after its checks, as APQ); in trusted-documents mode only registered documents run. It is
  then prepared and checked as an HTTP operation is: the document by the endpoint's
  `DocumentPreparer` (length, tokens, depth, aliases, validation; one cache for both), then
  the endpoint's operation checks (`server.limits`: text, a partner's agreement, cost). Only
  subscriptions run here; queries and mutations go over HTTP.
- Each operation runs with a context of its own (a copy of the connection's), so the read
  gateway each event gets, and the personal fields a partner's operation reads, belong to
  that operation alone.
- Errors that come from a bug, or from a database that does not answer, are masked as over
  HTTP (`format_error`); such an error ends the subscription, and the client subscribes again.

Events come from the process's `EventListener` (`server.live_events`), which the context
carries as `events`; reads are on the primary (an event is sent at a commit, which a replica
may not have replayed yet).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextvars import ContextVar
from typing import Any, cast

from graphql import GraphQLError, OperationType
from graphql.execution.values import get_variable_values
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.schema.base import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from resolvers.access import ANONYMOUS, Role, Viewer
from resolvers.database import Database
from schema.prepared import running_prepared
from server.auth import AuthenticationError, Authenticator, TooManyFailures
from server.graphql_http.errors import (
    format_error,
    internal_error_message,
    is_unexpected,
    log_unexpected,
)
from server.graphql_http.operations import select_operation
from server.graphql_http.preparation import DocumentPreparer
from server.operation_checks import CheckedOperation, DocumentCheck
from server.persisted import (
    DocumentStore,
    NotStored,
    PersistedQueryError,
    ResolvedDocument,
    resolve_document,
)
from server.shared_limits import ConnectionSlots, Lease

FORBIDDEN = 4403
TOO_MANY_CONNECTIONS = 4429
ONLY_SUBSCRIPTIONS = (
    "Only subscriptions run over WebSocket; send queries and mutations to /graphql over HTTP."
)
MISSING_QUERY = "Missing 'query': the GraphQL document to run, or a persisted query's hash."

ContextBuilder = Callable[[Database, Request | None, Viewer], Any]


@dataclasses.dataclass
class Refusal:
    code: int
    reason: str


class CheckedTransportHandler(BaseGraphQLTransportWSHandler[Any, None]):
    """graphql-transport-ws, with the connection authenticated at `connection_init`, counted
    against its principal, and each operation prepared and checked before it runs."""

    view: LiveEndpoint
    lease: Lease | None = None
    connection_context: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Each subscribe's `extensions` (a persisted query's hash), by id, until it runs.
        self.extensions: dict[str, Any] = {}

    @property
    def context(self) -> Any:
        """The running operation's own context (see the module), else the connection's."""
        return _OPERATION_CONTEXT.get(self.connection_context)

    @context.setter
    def context(self, value: Any) -> None:
        self.connection_context = value

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload") or {}
        if isinstance(payload, dict) and not self.connection_init_received:
            if self.connection_init_timeout_task is not None:
                self.connection_init_timeout_task.cancel()
            admitted = await self.view.admit(self.websocket_request, payload)
            if isinstance(admitted, Refusal):
                self.connection_init_received = True
                await self.websocket.close(code=admitted.code, reason=admitted.reason)
                return
            viewer, self.lease = admitted
            self.context = self.view.context_for(self.websocket_request, viewer)
        await super().handle_connection_init(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        """Strawberry's, keeping the `extensions` (a persisted query's hash) and taking a
        subscribe without `query` (the hash names the document)."""
        payload: Any = message.get("payload")
        if not isinstance(payload, dict):
            await self.handle_invalid_message("Failed to parse message")
            return
        operation_id = message.get("id")
        if isinstance(operation_id, str) and operation_id not in self.operations:
            self.extensions[operation_id] = payload.get("extensions")
        if payload.get("query") is None:
            message = {**message, "payload": {**payload, "query": ""}}
        await super().handle_subscribe(message)
        if isinstance(operation_id, str) and operation_id not in self.operations:
            self.extensions.pop(operation_id, None)  # refused: it will not run

    @property
    def websocket_request(self) -> WebSocket:
        return cast(WebSocket, getattr(self.websocket, "ws"))  # noqa: B009

    async def run_operation(self, operation: Operation[Any, None]) -> None:
        _OPERATION_CONTEXT.set(copy.copy(self.connection_context))  # this task's alone
        extensions = self.extensions.pop(operation.id, None)
        try:
            checked = await self.view.check(
                operation, extensions, self.context, self.websocket_request
            )
        except Exception as exc:  # answered, so that the operation frees its place
            error_id = log_unexpected(exc, path=None)
            checked = [GraphQLError(
                internal_error_message(error_id),
                extensions={"code": "INTERNAL_SERVER_ERROR", "errorId": error_id},
            )]
        if isinstance(checked, list):
            await operation.send_initial_errors(checked)
            return
        with running_prepared(operation.query, checked):
            await super().run_operation(operation)

    async def _send_result_stream(
        self, operation: Operation[Any, None], result_source: Any
    ) -> None:
        """Strawberry's, each result's unexpected errors masked as over HTTP."""
        await super()._send_result_stream(operation, masked_results(result_source))

    async def shutdown(self) -> None:
        try:
            await super().shutdown()
        finally:
            if self.lease is not None:
                lease, self.lease = self.lease, None
                await self.view.slots(self.websocket_request).release(lease)


_OPERATION_CONTEXT: ContextVar[Any] = ContextVar("laborhub_live_operation_context")


class LiveEndpoint(GraphQL[Any, None]):
    """Strawberry's ASGI view for WebSocket connections on `/graphql` (see the module)."""

    graphql_transport_ws_handler_class = CheckedTransportHandler

    def __init__(
        self,
        schema: BaseSchema,
        build: ContextBuilder,
        preparer: DocumentPreparer,
        *,
        document_checks: Sequence[DocumentCheck] = (),
        max_subscriptions_per_connection: int = 20,
        max_connections_per_principal: int = 10,
        allowed_origins: Sequence[str] = (),
        documents: DocumentStore | None = None,
        trusted_documents_only: bool = False,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            max_subscriptions_per_connection=max_subscriptions_per_connection,
            allowed_origins=allowed_origins,
        )
        self.build = build
        self.preparer = preparer
        self.document_checks = tuple(document_checks)
        self.max_connections_per_principal = max_connections_per_principal
        self.documents = documents
        self.trusted_documents_only = trusted_documents_only

    async def get_context(self, request: Request | WebSocket, response: Any) -> Any:
        """The context until `connection_init` says who is asking: anonymous."""
        return self.context_for(cast(WebSocket, request), ANONYMOUS)

    def context_for(self, websocket: WebSocket, viewer: Viewer) -> Any:
        state = websocket.state
        database: Database = dataclasses.replace(state.database, replica=None)
        context = self.build(database, None, viewer)
        context.events = state.events
        return context

    def slots(self, websocket: WebSocket) -> ConnectionSlots:
        """The app's connection slots (`server.shared_limits`), from the lifespan's state."""
        slots: ConnectionSlots = websocket.state.connection_slots
        return slots

    async def admit(
        self, websocket: WebSocket, payload: dict[str, Any]
    ) -> tuple[Viewer, Lease] | Refusal:
        """The viewer of `connection_init`'s credentials and its place among its principal's
        connections, or why the connection closes."""
        authenticator: Authenticator = websocket.state.authenticator
        address = websocket.client.host if websocket.client else None
        try:
            viewer = await authenticator.authenticate_credentials(
                _credential(payload, "authorization"), _credential(payload, "x-api-key"), address
            )
        except AuthenticationError as exc:
            return Refusal(FORBIDDEN, _reason(f"Forbidden: {exc.message}"))
        except TooManyFailures as exc:
            return Refusal(TOO_MANY_CONNECTIONS, _reason(exc.message))
        viewer = dataclasses.replace(viewer, client_address=address)
        lease = await self.slots(websocket).take(viewer.principal)
        if lease is None:
            return Refusal(TOO_MANY_CONNECTIONS, _reason(
                f"Too many connections ({self.max_connections_per_principal} at most each); "
                "close one first."
            ))
        return viewer, lease

    async def check(
        self, operation: Operation[Any, None], extensions: Any, context: Any,
        websocket: WebSocket,
    ) -> Any:
        """The prepared document of a subscription that passed every check, or the errors.
        `operation.query` becomes the document it names (a persisted query's, by its hash)."""
        try:
            resolved = await resolve_document(
                websocket, operation.query or None,
                extensions if isinstance(extensions, dict) else None,
                self.documents, trusted_only=self.trusted_documents_only,
            )
        except PersistedQueryError as error:
            return [GraphQLError(error.message, extensions={"code": error.code})]
        if resolved is None:
            return [GraphQLError(MISSING_QUERY)]
        operation.query = resolved.query
        document = await self._checked(operation, context)
        if not isinstance(document, list):
            await self._persist(websocket, resolved, context)
        return document

    async def _checked(self, operation: Operation[Any, None], context: Any) -> Any:
        prepared = await self.preparer.prepare(operation.query)
        if prepared.document is None or prepared.errors:
            return list(prepared.errors)
        try:
            selected = select_operation(prepared.document, operation.operation_name)
        except GraphQLError as error:
            return [error]
        if selected.operation is not OperationType.SUBSCRIPTION:
            return [GraphQLError(ONLY_SUBSCRIPTIONS)]
        schema = self.preparer.schema
        variables = get_variable_values(
            schema,
            selected.variable_definitions or (),
            operation.variables or {},
            hide_suggestions=self.preparer.hide_suggestions,
        )
        if isinstance(variables, list):
            return variables
        checked = CheckedOperation(
            schema, prepared.document, selected, variables.coerced, context
        )
        for document_check in self.document_checks:
            errors = document_check(checked)
            if errors:
                return list(errors)
        return prepared.document

    async def _persist(
        self, websocket: WebSocket, resolved: ResolvedDocument, context: Any
    ) -> None:
        """Store an APQ document sent with its hash, once it passed every check (as over HTTP;
        one not stored still runs)."""
        if resolved.store_as is None or self.documents is None:
            return
        viewer: Viewer = context.viewer
        try:
            await self.documents.add(
                websocket, resolved.store_as, resolved.query, owner=viewer.principal,
                anonymous=viewer.role is Role.ANONYMOUS,
            )
        except NotStored:
            pass  # it runs all the same; a later hash-only subscribe is not found
        except Exception as exc:
            log_unexpected(exc, path=None)

    def create_response(self, *args: Any, **kwargs: Any) -> Response:  # pragma: no cover
        raise NotImplementedError("LiveEndpoint serves WebSocket connections only")


async def masked_results(results: AsyncIterator[Any]) -> AsyncGenerator[Any, None]:
    """`results`, with each error that comes from a bug (or an unavailable database) replaced
    by what the HTTP endpoint answers for it (`format_error`: an error id that is logged)."""
    async for result in results:
        if getattr(result, "errors", None):
            result.errors = [_masked_error(error) for error in result.errors]
        yield result


def _masked_error(error: GraphQLError) -> GraphQLError:
    if not is_unexpected(error):
        return error
    formatted = format_error(error)
    return GraphQLError(
        formatted["message"], error.nodes, path=error.path, extensions=formatted["extensions"]
    )


def _credential(payload: dict[str, Any], name: str) -> str | None:
    """A credential of `connection_init`'s payload, by a header's name in any case."""
    for key, value in payload.items():
        if isinstance(key, str) and key.lower() == name and isinstance(value, str):
            return value.strip() or None
    return None


def _reason(text: str) -> str:
    """A close reason fits in 123 bytes (a control frame's payload, less the code)."""
    encoded = text.encode()
    if len(encoded) <= 123:
        return text
    return encoded[:120].decode(errors="ignore") + "..."


__all__ = [
    "FORBIDDEN",
    "TOO_MANY_CONNECTIONS",
    "CheckedTransportHandler",
    "LiveEndpoint",
    "masked_results",
]
