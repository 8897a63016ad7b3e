/**
 * The attribute table: the 20 Statlog German Credit attributes in file order, with their codes, English and
 * Spanish labels, lender-plausible ranges and form groups. This is data; `schema.ts` derives everything
 * else (types, validation, the zod/OpenAPI schema, the `/schema` document) from it.
 * @module
 */

/** A label in the two languages the form offers. */
export interface Label {
  readonly en: string;
  readonly es: string;
}

/** One category of a categorical attribute. */
export interface CodeDefinition {
  readonly code: string;
  readonly label: Label;
}

/** Form sections, in the order a credit officer fills them in. */
export const GROUPS = {
  loan: { en: "The loan", es: "El préstamo" },
  accounts: { en: "Accounts and savings", es: "Cuentas y ahorros" },
  employment: { en: "Employment and housing", es: "Empleo y vivienda" },
  personal: { en: "Personal", es: "Datos personales" },
} as const satisfies Record<string, Label>;

/** A form section's key. */
export type Group = keyof typeof GROUPS;

interface AttributeBase {
  readonly name: string;
  /** 1-based column position in the raw file. */
  readonly position: number;
  readonly group: Group;
  readonly label: Label;
  readonly description: Label;
}

/** An integer attribute with the range a lender accepts (wider than the data's min/max). */
export interface NumericAttribute extends AttributeBase {
  readonly kind: "numeric";
  readonly min: number;
  readonly max: number;
  readonly unit: Label;
}

/** A categorical attribute; `ordered` ones have codes listed from lowest to highest. */
export interface CategoricalAttribute extends AttributeBase {
  readonly kind: "nominal" | "ordered";
  readonly codes: readonly CodeDefinition[];
}

/** Any attribute of the schema. */
export type Attribute = NumericAttribute | CategoricalAttribute;

const code = (code: string, en: string, es: string): CodeDefinition => ({ code, label: { en, es } });

/** The 20 attributes in file order, named as in OpenML's "credit-g". */
export const ATTRIBUTES = [
  {
    name: "checking_status",
    position: 1,
    kind: "nominal",
    group: "accounts",
    label: { en: "Checking account", es: "Cuenta corriente" },
    description: {
      en: "Balance of the applicant's existing checking account.",
      es: "Saldo de la cuenta corriente existente del solicitante.",
    },
    codes: [
      code("A11", "< 0 DM", "< 0 DM"),
      code("A12", "0 to < 200 DM", "0 a < 200 DM"),
      code("A13", "≥ 200 DM or salary paid in for ≥ 1 year", "≥ 200 DM o nómina domiciliada ≥ 1 año"),
      code("A14", "No checking account", "Sin cuenta corriente"),
    ],
  },
  {
    name: "duration",
    position: 2,
    kind: "numeric",
    group: "loan",
    label: { en: "Duration", es: "Duración" },
    description: { en: "Loan duration in months.", es: "Duración del préstamo en meses." },
    min: 1,
    max: 120,
    unit: { en: "months", es: "meses" },
  },
  {
    name: "credit_history",
    position: 3,
    kind: "nominal",
    group: "accounts",
    label: { en: "Credit history", es: "Historial crediticio" },
    description: {
      en: "How the applicant has repaid credits so far.",
      es: "Cómo ha devuelto el solicitante sus créditos hasta ahora.",
    },
    codes: [
      code("A30", "No credits taken / all paid back duly", "Sin créditos / todos devueltos a tiempo"),
      code("A31", "All credits at this bank paid back duly", "Créditos en este banco devueltos a tiempo"),
      code("A32", "Existing credits paid back duly till now", "Créditos actuales al día hasta ahora"),
      code("A33", "Delays in paying off in the past", "Retrasos en pagos en el pasado"),
      code(
        "A34",
        "Critical account / other credits elsewhere",
        "Cuenta crítica / otros créditos en otros bancos",
      ),
    ],
  },
  {
    name: "purpose",
    position: 4,
    kind: "nominal",
    group: "loan",
    label: { en: "Purpose", es: "Finalidad" },
    description: { en: "What the loan is for.", es: "Para qué es el préstamo." },
    codes: [
      code("A40", "New car", "Coche nuevo"),
      code("A41", "Used car", "Coche usado"),
      code("A42", "Furniture / equipment", "Muebles / equipamiento"),
      code("A43", "Radio / television", "Radio / televisión"),
      code("A44", "Domestic appliances", "Electrodomésticos"),
      code("A45", "Repairs", "Reparaciones"),
      code("A46", "Education", "Educación"),
      code("A47", "Vacation", "Vacaciones"),
      code("A48", "Retraining", "Reciclaje profesional"),
      code("A49", "Business", "Negocio"),
      code("A410", "Other", "Otros"),
    ],
  },
  {
    name: "credit_amount",
    position: 5,
    kind: "numeric",
    group: "loan",
    label: { en: "Credit amount", es: "Importe del crédito" },
    description: { en: "Amount requested, in Deutsche Mark.", es: "Importe solicitado, en marcos alemanes." },
    min: 1,
    max: 1_000_000,
    unit: { en: "DM", es: "DM" },
  },
  {
    name: "savings_status",
    position: 6,
    kind: "ordered",
    group: "accounts",
    label: { en: "Savings", es: "Ahorros" },
    description: {
      en: "Balance of savings accounts and bonds.",
      es: "Saldo de cuentas de ahorro y bonos.",
    },
    codes: [
      code("A61", "< 100 DM", "< 100 DM"),
      code("A62", "100 to < 500 DM", "100 a < 500 DM"),
      code("A63", "500 to < 1,000 DM", "500 a < 1.000 DM"),
      code("A64", "≥ 1,000 DM", "≥ 1.000 DM"),
      code("A65", "Unknown / no savings account", "Desconocido / sin cuenta de ahorro"),
    ],
  },
  {
    name: "employment",
    position: 7,
    kind: "ordered",
    group: "employment",
    label: { en: "Employed for", es: "Antigüedad laboral" },
    description: {
      en: "Time in the present employment.",
      es: "Tiempo en el empleo actual.",
    },
    codes: [
      code("A71", "Unemployed", "Desempleado"),
      code("A72", "< 1 year", "< 1 año"),
      code("A73", "1 to < 4 years", "1 a < 4 años"),
      code("A74", "4 to < 7 years", "4 a < 7 años"),
      code("A75", "≥ 7 years", "≥ 7 años"),
    ],
  },
  {
    name: "installment_commitment",
    position: 8,
    kind: "numeric",
    group: "loan",
    label: { en: "Instalment rate", es: "Tasa de la cuota" },
    description: {
      en: "Instalment as a band of disposable income (1 = lowest, 4 = highest).",
      es: "Cuota como tramo de la renta disponible (1 = el menor, 4 = el mayor).",
    },
    min: 1,
    max: 4,
    unit: { en: "band", es: "tramo" },
  },
  {
    name: "personal_status",
    position: 9,
    kind: "nominal",
    group: "personal",
    label: { en: "Sex and marital status", es: "Sexo y estado civil" },
    description: {
      en: "Personal status and sex as recorded in the original data.",
      es: "Estado civil y sexo tal como constan en los datos originales.",
    },
    codes: [
      code("A91", "Male, divorced / separated", "Hombre, divorciado / separado"),
      code("A92", "Female, divorced / separated / married", "Mujer, divorciada / separada / casada"),
      code("A93", "Male, single", "Hombre, soltero"),
      code("A94", "Male, married / widowed", "Hombre, casado / viudo"),
      code("A95", "Female, single", "Mujer, soltera"),
    ],
  },
  {
    name: "other_parties",
    position: 10,
    kind: "nominal",
    group: "personal",
    label: { en: "Other debtors / guarantors", es: "Otros deudores / avalistas" },
    description: {
      en: "Whether someone else shares or guarantees the credit.",
      es: "Si otra persona comparte o avala el crédito.",
    },
    codes: [
      code("A101", "None", "Ninguno"),
      code("A102", "Co-applicant", "Cosolicitante"),
      code("A103", "Guarantor", "Avalista"),
    ],
  },
  {
    name: "residence_since",
    position: 11,
    kind: "numeric",
    group: "employment",
    label: { en: "Years at residence", es: "Años en la residencia" },
    description: {
      en: "Years at the present residence, banded (1 = shortest, 4 = longest).",
      es: "Años en la residencia actual, por tramos (1 = menos, 4 = más).",
    },
    min: 1,
    max: 4,
    unit: { en: "band", es: "tramo" },
  },
  {
    name: "property_magnitude",
    position: 12,
    kind: "nominal",
    group: "accounts",
    label: { en: "Most valuable property", es: "Bien más valioso" },
    description: {
      en: "The applicant's most valuable property.",
      es: "El bien más valioso del solicitante.",
    },
    codes: [
      code("A121", "Real estate", "Inmuebles"),
      code(
        "A122",
        "Building society savings / life insurance",
        "Ahorro-vivienda / seguro de vida",
      ),
      code("A123", "Car or other property", "Coche u otros bienes"),
      code("A124", "Unknown / no property", "Desconocido / sin bienes"),
    ],
  },
  {
    name: "age",
    position: 13,
    kind: "numeric",
    group: "personal",
    label: { en: "Age", es: "Edad" },
    description: { en: "Age in years.", es: "Edad en años." },
    min: 18,
    max: 100,
    unit: { en: "years", es: "años" },
  },
  {
    name: "other_payment_plans",
    position: 14,
    kind: "nominal",
    group: "accounts",
    label: { en: "Other instalment plans", es: "Otros planes de pago" },
    description: {
      en: "Instalment plans the applicant has elsewhere.",
      es: "Planes de pago a plazos que el solicitante tiene en otra parte.",
    },
    codes: [
      code("A141", "Bank", "Banco"),
      code("A142", "Stores", "Tiendas"),
      code("A143", "None", "Ninguno"),
    ],
  },
  {
    name: "housing",
    position: 15,
    kind: "nominal",
    group: "employment",
    label: { en: "Housing", es: "Vivienda" },
    description: { en: "How the applicant is housed.", es: "Régimen de vivienda del solicitante." },
    codes: [
      code("A151", "Rent", "Alquiler"),
      code("A152", "Own", "Propia"),
      code("A153", "For free", "Gratuita"),
    ],
  },
  {
    name: "existing_credits",
    position: 16,
    kind: "numeric",
    group: "accounts",
    label: { en: "Existing credits at this bank", es: "Créditos vigentes en este banco" },
    description: {
      en: "Number of existing credits at this bank.",
      es: "Número de créditos vigentes en este banco.",
    },
    min: 1,
    max: 10,
    unit: { en: "credits", es: "créditos" },
  },
  {
    name: "job",
    position: 17,
    kind: "ordered",
    group: "employment",
    label: { en: "Job", es: "Empleo" },
    description: { en: "Kind of job.", es: "Tipo de empleo." },
    codes: [
      code(
        "A171",
        "Unemployed / unskilled, non-resident",
        "Desempleado / no cualificado, no residente",
      ),
      code("A172", "Unskilled, resident", "No cualificado, residente"),
      code("A173", "Skilled employee / official", "Empleado cualificado / funcionario"),
      code(
        "A174",
        "Management / self-employed / highly qualified",
        "Directivo / autónomo / altamente cualificado",
      ),
    ],
  },
  {
    name: "num_dependents",
    position: 18,
    kind: "numeric",
    group: "personal",
    label: { en: "Dependants", es: "Personas a cargo" },
    description: {
      en: "Number of people the applicant provides maintenance for.",
      es: "Número de personas a cargo del solicitante.",
    },
    min: 0,
    max: 20,
    unit: { en: "people", es: "personas" },
  },
  {
    name: "own_telephone",
    position: 19,
    kind: "nominal",
    group: "personal",
    label: { en: "Telephone", es: "Teléfono" },
    description: {
      en: "Whether a telephone is registered in the applicant's name.",
      es: "Si hay un teléfono registrado a nombre del solicitante.",
    },
    codes: [
      code("A191", "None", "No"),
      code("A192", "Yes, registered in the applicant's name", "Sí, a nombre del solicitante"),
    ],
  },
  {
    name: "foreign_worker",
    position: 20,
    kind: "nominal",
    group: "personal",
    label: { en: "Foreign worker", es: "Trabajador extranjero" },
    description: {
      en: "Whether the applicant is a foreign worker.",
      es: "Si el solicitante es trabajador extranjero.",
    },
    codes: [
      code("A201", "Yes", "Sí"),
      code("A202", "No", "No"),
    ],
  },
] as const satisfies readonly Attribute[];

/** Why an attribute is protected: the grounds of discrimination it records. */
export interface ProtectedGround {
  readonly grounds: Label;
}

/**
 * The attributes fair-lending law protects (sex and marital status, age, nationality), marked once
 * here: the `fair` profile, the encoder's exclusions, the reasons' filter and the fairness report all
 * derive from this table. (A field on each attribute would be nicer, but an optional property on a few
 * members of the `as const` table breaks TypeScript's narrowing of the whole union.)
 */
export const PROTECTED: Readonly<Partial<Record<(typeof ATTRIBUTES)[number]["name"], ProtectedGround>>> = {
  personal_status: { grounds: { en: "sex and marital status", es: "sexo y estado civil" } },
  age: { grounds: { en: "age", es: "edad" } },
  foreign_worker: { grounds: { en: "nationality (national origin)", es: "nacionalidad (origen nacional)" } },
};
