"""Security as an admin client manages it: ACLs (CreateAcls, DescribeAcls, DeleteAcls), SASL/SCRAM
credentials (DescribeUserScramCredentials, AlterUserScramCredentials) and the client's own SASL login
(``set_sasl_credentials``).

A mixin of ``eventsim.admin.AdminClient``; requests and answers are confluent-kafka's classes
(``AclBinding``, ``AclBindingFilter``, ``UserScramCredentialUpsertion``, ``UserScramCredentialDeletion``,
``UserScramCredentialsDescription``, ``ScramCredentialInfo``).

The simulated cluster is a PLAINTEXT cluster **without an authorizer** (no ``authorizer.class.name``), and
answers as Kafka 4.4 does then:

* ``create_acls`` / ``delete_acls``: every binding / filter fails with ``SECURITY_DISABLED`` (54, "No
  Authorizer is configured."); ``describe_acls`` succeeds with an empty list.
* SCRAM credentials are stored in the KRaft metadata whatever the listeners are, so they work: an upsertion
  stores (user, mechanism, iterations) - iterations must be 4096..16384 (``UNACCEPTABLE_CREDENTIAL``) -, a
  deletion of a credential that does not exist is ``RESOURCE_NOT_FOUND``, a user altered twice in one
  request is ``DUPLICATE_RESOURCE`` (unless one of its deletions is of a missing credential). Nothing ever
  authenticates with them (no SASL listener).
"""
from __future__ import annotations

from confluent_kafka.admin import AdminClient as _RealAdminClient
from confluent_kafka.admin import (AclBinding, AclBindingFilter, ResourceType, ScramCredentialInfo, ScramMechanism,
                                   UserScramCredentialDeletion, UserScramCredentialsDescription)

from .errors import KafkaError

#: Kafka's bounds on a SCRAM credential's iterations (``ScramMechanism.minIterations`` / ``maxIterations``).
SCRAM_MIN_ITERATIONS = 4096
SCRAM_MAX_ITERATIONS = 16384


def _security_disabled():
    return KafkaError(KafkaError.SECURITY_DISABLED, reason="No Authorizer is configured.")


class SecurityAdmin:
    """Mixin of ``AdminClient``: ACLs, SCRAM credentials and the client's SASL credentials."""

    # -- ACLs -------------------------------------------------------------------------------------------
    def create_acls(self, acls, **kwargs):
        """CreateAcls: ``{AclBinding: Future}``. Without an authorizer each fails with ``SECURITY_DISABLED``.
        Option: ``request_timeout``."""
        return self._acl_request(acls, AclBinding, "AclBinding", kwargs)

    def delete_acls(self, acl_binding_filters, **kwargs):
        """DeleteAcls: ``{AclBindingFilter: Future}``, each the list of deleted ``AclBinding``\\ s. Without an
        authorizer each fails with ``SECURITY_DISABLED``. Option: ``request_timeout``."""
        return self._acl_request(acl_binding_filters, AclBindingFilter, "AclBindingFilter", kwargs)

    def _acl_request(self, items, cls, what, kwargs):
        from .admin import _check_kwargs, _done_future
        if len(set(items)) != len(items):          # confluent-kafka's _has_duplicates (a non-list fails here)
            raise ValueError("duplicate ACL binding%s not allowed" % (" filters" if cls is AclBindingFilter else "s"))
        for item in items:
            if not isinstance(item, cls):
                raise ValueError("Expected list of %r" % cls)
        _check_kwargs(kwargs, ("request_timeout",))
        if not isinstance(items, list):
            raise TypeError("argument 1 must be list, not %s" % type(items).__name__)
        if not items:
            raise ValueError("Expected non-empty list of %s objects" % what)
        for item in items:
            _check_acl_binding(item, cls)
        return {item: _done_future(error=_security_disabled()) for item in items}

    def describe_acls(self, acl_binding_filter, **kwargs):
        """DescribeAcls: a future whose result is the list of matching ``AclBinding``\\ s: without an
        authorizer there are none, ``[]``. Option: ``request_timeout``."""
        from .admin import _check_kwargs, _done_future
        if not isinstance(acl_binding_filter, AclBindingFilter):
            raise TypeError("Expected an AclBindingFilter object")
        _check_kwargs(kwargs, ("request_timeout",))
        return _done_future([])

    # -- SASL/SCRAM credentials --------------------------------------------------------------------------
    def describe_user_scram_credentials(self, users=None, **kwargs):
        """DescribeUserScramCredentials. ``users=None``: one future, ``{user: UserScramCredentialsDescription}``
        for every user with a credential; a list: ``{user: Future}`` (``RESOURCE_NOT_FOUND`` for a user with
        none). Option: ``request_timeout``."""
        from .admin import _check_kwargs, _done_future
        _RealAdminClient._check_describe_user_scram_credentials_request(users)
        _check_kwargs(kwargs, ("request_timeout",))
        store = scram_store(self._cluster)
        if users is None:
            return _done_future({user: _describe_user(user, mechs) for user, mechs in sorted(store.items())})
        if len(set(users)) != len(users):
            error = KafkaError(KafkaError._INVALID_ARG, reason="Duplicate users aren't allowed in the same request")
            return {user: _done_future(error=error) for user in users}
        futures = {}
        for user in users:
            if user in store:
                futures[user] = _done_future(_describe_user(user, store[user]))
            else:
                futures[user] = _done_future(error=KafkaError(KafkaError.RESOURCE_NOT_FOUND, reason=(
                    "Attempt to describe a user credential that does not exist: %s" % user)))
        return futures

    def alter_user_scram_credentials(self, alterations, **kwargs):
        """AlterUserScramCredentials: ``{user: Future}`` (None on success) for a list of
        ``UserScramCredentialUpsertion`` / ``UserScramCredentialDeletion``. Option: ``request_timeout``."""
        from .admin import _check_kwargs, _done_future
        _RealAdminClient._check_alter_user_scram_credentials_request(alterations)
        _check_kwargs(kwargs, ("request_timeout",))
        users = list(dict.fromkeys(alteration.user for alteration in alterations))   # in request order
        for index, alteration in enumerate(alterations):
            if _mechanism(alteration) == ScramMechanism.UNKNOWN:
                error = KafkaError(KafkaError._INVALID_ARG,
                                   reason="SCRAM mechanism must be specified at index %d" % index)
                return {user: _done_future(error=error) for user in users}
        store = scram_store(self._cluster)
        return {user: _done_future(error=_alter_user(store, user, [a for a in alterations if a.user == user]))
                for user in users}

    # -- the client's own SASL login -----------------------------------------------------------------------
    def set_sasl_credentials(self, username, password):
        """Set ``sasl.username`` / ``sasl.password`` for the next authentication (SASL PLAIN and SCRAM).
        The simulated cluster has no SASL listener, so they are stored and never used, as on a PLAINTEXT
        cluster."""
        for index, value in enumerate((username, password), start=1):
            if not isinstance(value, str):
                raise TypeError("argument %d must be str, not %s" % (
                    index, "None" if value is None else type(value).__name__))
        self._sasl_credentials = (username, password)


# -- helpers ---------------------------------------------------------------------------------------------

def scram_store(cluster):
    """The cluster's SCRAM credentials, ``{user: {ScramMechanism: iterations}}`` (KRaft's
    ``UserScramCredentialRecord``\\ s; the salted password itself is never shown)."""
    return cluster.__dict__.setdefault("scram_credentials", {})


def _describe_user(user, mechanisms):
    infos = [ScramCredentialInfo(mech, iterations) for mech, iterations in sorted(
        mechanisms.items(), key=lambda item: item[0].value)]
    return UserScramCredentialsDescription(user, infos)


def _mechanism(alteration):
    if isinstance(alteration, UserScramCredentialDeletion):
        return alteration.mechanism
    return alteration.scram_credential_info.mechanism


def _alter_user(store, user, alterations):
    """The controller's checks and change for one user's alterations: None or a ``KafkaError``. As Kafka
    4.4 answers: a deletion of a credential that does not exist is ``RESOURCE_NOT_FOUND`` even when the
    user is also altered twice; otherwise a user altered twice is ``DUPLICATE_RESOURCE``."""
    existing = store.get(user, {})
    if any(isinstance(a, UserScramCredentialDeletion) and a.mechanism not in existing for a in alterations):
        return KafkaError(KafkaError.RESOURCE_NOT_FOUND,
                          reason="Attempt to delete a user credential that does not exist")
    if len(alterations) > 1:
        return KafkaError(KafkaError.DUPLICATE_RESOURCE,
                          reason="A user credential cannot be altered twice in the same request")
    alteration = alterations[0]
    mechanism = _mechanism(alteration)
    if isinstance(alteration, UserScramCredentialDeletion):
        del existing[mechanism]
        if not existing:
            del store[user]
        return None
    iterations = alteration.scram_credential_info.iterations
    if iterations < SCRAM_MIN_ITERATIONS or iterations > SCRAM_MAX_ITERATIONS:
        return KafkaError(KafkaError.UNACCEPTABLE_CREDENTIAL, reason="Too %s iterations" % (
            "few" if iterations < SCRAM_MIN_ITERATIONS else "many"))
    store.setdefault(user, {})[mechanism] = iterations
    return None


def _check_acl_binding(binding, cls):
    """confluent-kafka's C-level check of one binding (an ``AclBindingFilter`` passed to ``create_acls``
    crashes it with a ``SystemError``)."""
    if cls is AclBinding and isinstance(binding, AclBindingFilter):
        raise SystemError("<class 'UnicodeDecodeError'> returned a result with an exception set")
    if binding.restype == ResourceType.UNKNOWN:
        raise ValueError("Invalid resource type")
