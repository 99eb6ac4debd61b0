"""Looking partners up by who they say they are: ISA ids, GS codes, AS2 names, transport hints."""

from __future__ import annotations

from collections.abc import Iterable

from partners.profile import As2Transport, PartnerProfile


class PartnerDirectory:
    """All partner profiles, indexed by every identity they send under."""

    def __init__(self, profiles: Iterable[PartnerProfile]) -> None:
        self._by_id: dict[str, PartnerProfile] = {}
        self._by_isa: dict[tuple[str, str], PartnerProfile] = {}
        self._by_isa_id: dict[str, list[PartnerProfile]] = {}
        self._by_as2: dict[str, PartnerProfile] = {}
        for p in profiles:
            self._by_id[p.id] = p
            for ident in p.identities():
                self._by_isa[(ident.qualifier.upper(), ident.id.upper())] = p
                self._by_isa_id.setdefault(ident.id.upper(), []).append(p)
            for t in [*p.inbound, *([p.outbound] if p.outbound else [])]:
                if isinstance(t, As2Transport):
                    self._by_as2[t.as2_id] = p

    def __iter__(self):  # type: ignore[no-untyped-def]
        """Iterate over the profiles."""
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, partner_id: str | None) -> PartnerProfile | None:
        """The profile with this id, or None."""
        return self._by_id.get(partner_id) if partner_id else None

    def by_x12(self, qualifier: str, sender_id: str) -> PartnerProfile | None:
        """The partner sending under this ISA qualifier + id (an id alone when it is unambiguous)."""
        found = self._by_isa.get((qualifier.strip().upper(), sender_id.strip().upper()))
        if found is not None:
            return found
        candidates = self._by_isa_id.get(sender_id.strip().upper(), [])
        return candidates[0] if len(candidates) == 1 else None

    def by_as2(self, as2_from: str) -> PartnerProfile | None:
        """The partner with this AS2 id (their AS2-From)."""
        return self._by_as2.get(as2_from)
