// Test identities of the stand-in, shaped like FranceConnect's "identité pivot" (RNIPP form).
// The first ones match guardians of Trousseau's demo académie (trousseau/demo/services.py: the parents
// are PARENT_FIRST_NAMES x LAST_NAMES, and their mobiles are `_mobile(n)`), so that a tester can walk
// the first FranceConnect login with the mobile the school recorded.
// Edge cases as FranceConnect's own mock identity provider has them: several given names, a usage name,
// accents, a compound name, someone born abroad (empty birthplace), no email, and nobody in the schools.

export const IDENTITIES = [
  {
    login: 'sophie.dupont',
    given_name: 'Sophie',
    family_name: 'DUPONT',
    preferred_username: '',
    birthdate: '1984-03-12',
    gender: 'female',
    birthplace: '14118',
    birthcountry: '99100',
    email: 'sophie.dupont@franceconnect.test',
    note: 'Famille Dupont, 1 enfant (mobile +33610007919 dans la démo)',
  },
  {
    login: 'nathalie.martin',
    given_name: 'Nathalie Marie',
    family_name: 'MARTIN',
    preferred_username: '',
    birthdate: '1981-11-02',
    gender: 'female',
    birthplace: '75107',
    birthcountry: '99100',
    email: 'nathalie.martin@franceconnect.test',
    note: 'Famille Martin, 2 enfants (mobile +33610023757)',
  },
  {
    login: 'stephane.martin',
    given_name: 'Stéphane Jean',
    family_name: 'MARTIN',
    preferred_username: '',
    birthdate: '1979-06-30',
    gender: 'male',
    birthplace: '',
    birthcountry: '99134',
    email: '',
    note: 'Famille Martin, né à l’étranger, sans email (mobile +33610031676)',
  },
  {
    login: 'celine.legall',
    given_name: 'Céline',
    family_name: 'LE GALL',
    preferred_username: '',
    birthdate: '1986-01-01',
    gender: 'female',
    birthplace: '2B002',
    birthcountry: '99100',
    email: 'celine.legall@franceconnect.test',
    note: 'Famille Le Gall, enfants dans deux établissements (mobile +33610071271)',
  },
  {
    login: 'aurelie.leroux',
    given_name: 'Aurélie',
    family_name: 'LEROUX',
    preferred_username: 'DUPONT-MOREAU',
    birthdate: '1983-09-01',
    gender: 'female',
    birthplace: '69123',
    birthcountry: '99100',
    email: 'aurelie.dupont-moreau@franceconnect.test',
    note: 'Nom de naissance LEROUX, nom d’usage DUPONT-MOREAU (mobile +33610087109)',
  },
  {
    login: 'jean.inconnu',
    given_name: 'Jean',
    family_name: 'INCONNU',
    preferred_username: '',
    birthdate: '1970-02-14',
    gender: 'male',
    birthplace: '13055',
    birthcountry: '99100',
    email: 'jean.inconnu@franceconnect.test',
    note: 'Inconnu des établissements',
  },
];

export const PASSWORD = '123';
