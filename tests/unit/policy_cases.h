/* policy_cases.h: the evaluator's case table (policy set, request, expected decision), built
 * from the example policies and the rules of AWS's IAM User Guide, S3 User Guide and STS docs.
 * Included by test_policy.c only.
 *
 * JSON is written with single quotes to stay readable: the test turns ' into " and ` into '
 * (the latter only for the quoted defaults of policy variables). Contexts are JSON objects of
 * condition keys as AWS spells them (the test lowercases the keys as the service layer does);
 * an array value is a multivalued key.
 *
 * Not clang-formatted: one case per line, and policies laid out as JSON, read better as tables. */
/* clang-format off */

/* ---- principals (see WHO[] in test_policy.c) ---- */
enum who_id {
    ALICE,  /* IAM user alice in 111122223333 */
    BOB,    /* IAM user bob (path /division_abc/subdivision_xyz/) in 111122223333 */
    ROOT,   /* root user of 111122223333 */
    CAROL,  /* IAM user carol in 444455556666 */
    XROOT,  /* root user of 444455556666 */
    DEV,    /* session alice-session of role Dev in 111122223333 */
    XAUD,   /* session s1 of role Auditor in 444455556666 */
    FRED,   /* federated user fred (GetFederationToken) in 111122223333 */
    ANON,   /* unsigned request */
    SNS,    /* the service principal sns.amazonaws.com */
    EC2SVC, /* the service principal ec2.amazonaws.com */
    GOOGLE, /* a web identity from accounts.google.com */
    S3LOG,  /* the service principal logging.s3.amazonaws.com */
};

#define ALLOW NB_DECISION_ALLOW
#define IDENY NB_DECISION_IMPLICIT_DENY
#define EDENY NB_DECISION_EXPLICIT_DENY
/* Optional reason check: 0 = not checked. */
#define WHY(r) .why = 1 + (r)

#define A1 "111122223333"
#define A4 "444455556666"

#define DOC(stmts) "{'Version':'2012-10-17','Statement':[" stmts "]}"
#define ALLOW_ALL DOC("{'Effect':'Allow','Action':'*','Resource':'*'}")

/* ---------------------------------------------------------------------------------------------
 * Policies
 * ------------------------------------------------------------------------------------------- */

/* "Amazon S3: Allows read and write access to objects in an S3 bucket" */
#define P_BUCKET                                                                                    \
    DOC("{'Sid':'ListObjectsInBucket','Effect':'Allow','Action':['s3:ListBucket'],"                \
        "'Resource':['arn:aws:s3:::bucket-name']},"                                                \
        "{'Sid':'AllObjectActions','Effect':'Allow','Action':'s3:*Object',"                        \
        "'Resource':['arn:aws:s3:::bucket-name/*']}")

/* Wildcards in actions ("s3:Get*", "iam:*User*", '?') */
#define P_GETLIST DOC("{'Effect':'Allow','Action':['s3:Get*','s3:List*'],'Resource':'*'}")
#define P_IAMUSER DOC("{'Effect':'Allow','Action':'iam:*User*','Resource':'*'}")
#define P_QMARK DOC("{'Effect':'Allow','Action':'s3:?etObject','Resource':'*'}")
#define P_S3ALL DOC("{'Effect':'Allow','Action':'s3:*','Resource':'*'}")
#define P_UPPER DOC("{'Effect':'Allow','Action':'S3:GETOBJECT','Resource':'*'}")

/* "AWS: Denies access to AWS based on the source IP" */
#define P_DENY_IP                                                                                   \
    DOC("{'Effect':'Deny','Action':'*','Resource':'*','Condition':{"                               \
        "'NotIpAddress':{'aws:SourceIp':['192.0.2.0/24','203.0.113.0/24']},"                       \
        "'Bool':{'aws:ViaAWSService':'false'}}}")
/* S3 User Guide bucket policy "Allowing IPv4 and IPv6 addresses", as an identity policy */
#define P_IP46                                                                                      \
    DOC("{'Effect':'Allow','Action':'s3:*','Resource':'*','Condition':{"                           \
        "'IpAddress':{'aws:SourceIp':['192.0.2.0/24','2001:DB8:1234:5678::/64']},"                 \
        "'NotIpAddress':{'aws:SourceIp':['203.0.113.0/24','2001:DB8:1234:5678:ABCD::/80']}}}")
#define P_IP_ONE                                                                                    \
    DOC("{'Effect':'Allow','Action':'s3:*','Resource':'*','Condition':{"                           \
        "'IpAddress':{'aws:SourceIp':'203.0.113.7'}}}")
#define P_IP_ANY4                                                                                   \
    DOC("{'Effect':'Allow','Action':'s3:*','Resource':'*','Condition':{"                           \
        "'IpAddress':{'aws:SourceIp':'0.0.0.0/0'}}}")

/* MFA: "aws:MultiFactorAuthPresent" and its documented pitfalls */
#define P_MFA_ALLOW                                                                                 \
    DOC("{'Effect':'Allow','Action':'ec2:*','Resource':'*','Condition':{"                          \
        "'Bool':{'aws:MultiFactorAuthPresent':'true'}}}")
#define P_MFA_ALLOW_JSONBOOL                                                                        \
    DOC("{'Effect':'Allow','Action':'ec2:*','Resource':'*','Condition':{"                          \
        "'Bool':{'aws:MultiFactorAuthPresent':true}}}")
#define P_MFA_DENY_IFEXISTS                                                                         \
    DOC("{'Effect':'Deny','Action':'*','Resource':'*','Condition':{"                               \
        "'BoolIfExists':{'aws:MultiFactorAuthPresent':'false'}}}")
#define P_MFA_DENY_BOOL                                                                             \
    DOC("{'Effect':'Deny','Action':'*','Resource':'*','Condition':{"                               \
        "'Bool':{'aws:MultiFactorAuthPresent':'false'}}}")
#define P_MFA_AGE                                                                                   \
    DOC("{'Effect':'Allow','Action':'ec2:*','Resource':'*','Condition':{"                          \
        "'NumericLessThan':{'aws:MultiFactorAuthAge':'3600'}}}")
#define P_MFA_NULL_DENY                                                                             \
    DOC("{'Effect':'Deny','Action':'*','Resource':'*','Condition':{"                               \
        "'Null':{'aws:MultiFactorAuthAge':true}}}")
/* "AWS: Allows MFA-authenticated IAM users to manage their own MFA device" (trimmed) */
#define P_MFA_SELF                                                                                  \
    DOC("{'Sid':'AllowManageOwnVirtualMFADevice','Effect':'Allow',"                                \
        "'Action':['iam:CreateVirtualMFADevice'],'Resource':'arn:aws:iam::*:mfa/*'},"              \
        "{'Sid':'AllowManageOwnUserMFA','Effect':'Allow','Action':['iam:DeactivateMFADevice',"     \
        "'iam:EnableMFADevice','iam:GetUser','iam:ListMFADevices','iam:ResyncMFADevice'],"         \
        "'Resource':'arn:aws:iam::*:user/${aws:username}'},"                                       \
        "{'Sid':'DenyAllExceptListedIfNoMFA','Effect':'Deny','NotAction':["                        \
        "'iam:CreateVirtualMFADevice','iam:EnableMFADevice','iam:GetUser','iam:ListMFADevices',"   \
        "'iam:ListVirtualMFADevices','iam:ResyncMFADevice','sts:GetSessionToken'],"                \
        "'Resource':'*','Condition':{'BoolIfExists':{'aws:MultiFactorAuthPresent':'false'}}}")

/* "AWS: Allows access within specific dates" */
#define P_DATES                                                                                     \
    DOC("{'Effect':'Allow','Action':'ec2:*','Resource':'*','Condition':{"                          \
        "'DateGreaterThan':{'aws:CurrentTime':'2020-04-01T00:00:00Z'},"                            \
        "'DateLessThan':{'aws:CurrentTime':'2020-06-30T23:59:59Z'}}}")
#define P_EPOCH                                                                                     \
    DOC("{'Effect':'Allow','Action':'ec2:*','Resource':'*','Condition':{"                          \
        "'DateGreaterThanEquals':{'aws:EpochTime':'1585699200'}}}")
/* "Revoking IAM role temporary security credentials" (AWSRevokeOlderSessions) */
#define P_REVOKE                                                                                    \
    DOC("{'Effect':'Deny','Action':['*'],'Resource':['*'],'Condition':{"                           \
        "'DateLessThan':{'aws:TokenIssueTime':'2014-05-07T23:47:00Z'}}}")
#define P_DATE_EQ                                                                                   \
    DOC("{'Effect':'Allow','Action':'ec2:*','Resource':'*','Condition':{"                          \
        "'DateEquals':{'aws:CurrentTime':'2020-01-01T00:00:00Z'}}}")

/* "Amazon S3: Allows IAM users access to their S3 home directory" (the classic form) */
#define P_HOME                                                                                      \
    DOC("{'Sid':'AllowRootAndHomeListingOfCompanyBucket','Action':['s3:ListBucket'],"              \
        "'Effect':'Allow','Resource':['arn:aws:s3:::my-company'],'Condition':{'StringEquals':{"    \
        "'s3:prefix':['','home/','home/${aws:username}'],'s3:delimiter':['/']}}},"                 \
        "{'Sid':'AllowListingOfUserFolder','Action':['s3:ListBucket'],'Effect':'Allow',"           \
        "'Resource':['arn:aws:s3:::my-company'],"                                                  \
        "'Condition':{'StringLike':{'s3:prefix':['home/${aws:username}/*']}}},"                    \
        "{'Sid':'AllowAllS3ActionsInUserFolder','Effect':'Allow','Action':['s3:*'],"               \
        "'Resource':['arn:aws:s3:::my-company/home/${aws:username}/*']}")
/* Variables: defaults, ${aws:userid}, the literal escapes ${*} ${?} ${$} */
#define P_DEPT                                                                                      \
    DOC("{'Effect':'Allow','Action':'s3:*','Resource':"                                            \
        "'arn:aws:s3:::bucket/${aws:PrincipalTag/department, `company-wide`}/*'}")
#define P_USERID                                                                                    \
    DOC("{'Effect':'Allow','Action':'s3:*','Resource':'arn:aws:s3:::bucket/${aws:userid}/*'}")
#define P_LITERAL_STAR                                                                              \
    DOC("{'Effect':'Allow','Action':'s3:*','Resource':'arn:aws:s3:::bucket/a${*}b${?}c${$}'}")
#define P_VAR_COND                                                                                  \
    DOC("{'Effect':'Allow','Action':'s3:GetObject','Resource':'*','Condition':{"                   \
        "'StringEquals':{'s3:ExistingObjectTag/owner':'${aws:username}'}}}")
#define P_PRINCIPALTAG_RES                                                                          \
    DOC("{'Effect':'Allow','Action':'dynamodb:GetItem','Resource':"                                \
        "'arn:aws:dynamodb:*:*:table/${aws:PrincipalTag/team}-*'}")

/* "EC2: Start or stop instances based on tags" (ABAC: matching principal and resource tags) */
#define P_TAG_MATCH                                                                                 \
    DOC("{'Effect':'Allow','Action':['ec2:StartInstances','ec2:StopInstances'],'Resource':'*',"    \
        "'Condition':{'StringEquals':{'aws:ResourceTag/Project':'${aws:PrincipalTag/Project}'}}}")
/* "IAM: Create new users with tags" (aws:RequestTag + ForAllValues aws:TagKeys) */
#define P_TAG_CREATE                                                                                \
    DOC("{'Effect':'Allow','Action':['iam:CreateUser','iam:TagUser'],'Resource':'*',"              \
        "'Condition':{'StringEquals':{'aws:RequestTag/CostCenter':['A-123','B-456']},"             \
        "'ForAllValues:StringEquals':{'aws:TagKeys':'CostCenter'}}}")
#define P_TAG_DENY_ANY                                                                              \
    DOC("{'Effect':'Deny','Action':'ec2:CreateTags','Resource':'*','Condition':{"                  \
        "'ForAnyValue:StringEquals':{'aws:TagKeys':['Environment','CostCenter']}}}")
#define P_FORALL                                                                                    \
    DOC("{'Effect':'Allow','Action':'ec2:CreateTags','Resource':'*','Condition':{"                 \
        "'ForAllValues:StringEquals':{'aws:TagKeys':['Name','Owner']}}}")
#define P_FORANY                                                                                    \
    DOC("{'Effect':'Allow','Action':'ec2:CreateTags','Resource':'*','Condition':{"                 \
        "'ForAnyValue:StringEquals':{'aws:TagKeys':['Name','Owner']}}}")
#define P_FORALL_LIKE                                                                               \
    DOC("{'Effect':'Allow','Action':'ec2:CreateTags','Resource':'*','Condition':{"                 \
        "'ForAllValues:StringLike':{'aws:TagKeys':['proj-*','Name']}}}")
#define P_FORANY_NOT_DENY                                                                           \
    DOC("{'Effect':'Deny','Action':'ec2:CreateTags','Resource':'*','Condition':{"                  \
        "'ForAnyValue:StringNotEquals':{'aws:TagKeys':['Name','Owner']}}}")
#define P_FORALL_NOT                                                                                \
    DOC("{'Effect':'Allow','Action':'ec2:CreateTags','Resource':'*','Condition':{"                 \
        "'ForAllValues:StringNotEquals':{'aws:TagKeys':['Secret']}}}")
#define P_RESTAG_LIKE                                                                               \
    DOC("{'Effect':'Allow','Action':'ec2:*','Resource':'*','Condition':{"                          \
        "'StringLike':{'aws:ResourceTag/Env':'prod*'}}}")

/* "AWS: Denies access to AWS based on the requested Region" */
#define P_REGION                                                                                    \
    DOC("{'Sid':'DenyAllOutsideRequestedRegions','Effect':'Deny','NotAction':['cloudfront:*',"     \
        "'iam:*','route53:*','support:*'],'Resource':'*','Condition':{'StringNotEquals':{"         \
        "'aws:RequestedRegion':['eu-central-1','eu-west-1']}}}")
/* NotAction with Deny: everything but IAM needs MFA */
#define P_DENY_NOT_MFA                                                                              \
    DOC("{'Effect':'Deny','NotAction':['iam:*','sts:GetSessionToken'],'Resource':'*',"             \
        "'Condition':{'BoolIfExists':{'aws:MultiFactorAuthPresent':'false'}}}")
/* AWS managed policy PowerUserAccess */
#define P_POWER                                                                                     \
    DOC("{'Effect':'Allow','NotAction':['iam:*','organizations:*','account:*'],'Resource':'*'},"   \
        "{'Effect':'Allow','Action':['iam:CreateServiceLinkedRole','iam:DeleteServiceLinkedRole',"   \
        "'iam:ListRoles','organizations:DescribeOrganization','account:ListRegions',"              \
        "'account:GetAccountInformation'],'Resource':'*'}")

/* NotResource (IAM User Guide, "IAM JSON policy elements: NotResource") */
#define P_NOTRES_DENY                                                                               \
    DOC("{'Effect':'Deny','Action':'s3:*','NotResource':['arn:aws:s3:::HRBucket/Payroll',"         \
        "'arn:aws:s3:::HRBucket/Payroll/*']}")
#define P_NOTRES_ALLOW                                                                              \
    DOC("{'Effect':'Allow','Action':'s3:*','NotResource':'arn:aws:s3:::secret-bucket/*'}")

/* Resource text that only looks special: "${}" is no variable, '\\' is a plain character */
#define P_ODD_RES                                                                                   \
    DOC("{'Effect':'Allow','Action':'s3:GetObject','Resource':['arn:aws:s3:::b/${}x',"             \
        "'arn:aws:s3:::b/a\\\\*','arn:aws:s3:::b/${aws:username}\\\\${aws:username}']}")

/* Resource-based policies */
#define P_XACCT_BUCKET                                                                              \
    DOC("{'Sid':'CrossAccount','Effect':'Allow','Principal':{'AWS':'arn:aws:iam::" A4 ":root'},"  \
        "'Action':['s3:GetObject','s3:ListBucket'],'Resource':['arn:aws:s3:::shared',"             \
        "'arn:aws:s3:::shared/*']}")
#define P_BUCKET_BOB                                                                                \
    DOC("{'Effect':'Allow','Principal':{'AWS':'arn:aws:iam::" A1                                   \
        ":user/division_abc/subdivision_xyz/bob'},'Action':'s3:GetObject',"                        \
        "'Resource':'arn:aws:s3:::team/*'}")
#define P_BUCKET_CAROL                                                                              \
    DOC("{'Effect':'Allow','Principal':{'AWS':['arn:aws:iam::" A4 ":user/carol']},"                \
        "'Action':'s3:GetObject','Resource':'arn:aws:s3:::team/*'}")
#define P_PUBLIC                                                                                    \
    DOC("{'Sid':'PublicRead','Effect':'Allow','Principal':'*','Action':['s3:GetObject'],"          \
        "'Resource':['arn:aws:s3:::public-bucket/*']}")
#define P_PUBLIC_AWSSTAR                                                                            \
    DOC("{'Effect':'Allow','Principal':{'AWS':'*'},'Action':'s3:GetObject',"                       \
        "'Resource':'arn:aws:s3:::public-bucket/*'}")
#define P_BUCKET_ROLE                                                                               \
    DOC("{'Effect':'Allow','Principal':{'AWS':'arn:aws:iam::" A1 ":role/Dev'},"                    \
        "'Action':['s3:GetObject','s3:ListBucket'],'Resource':['arn:aws:s3:::team','arn:aws:s3:::team/*']}")
#define P_BUCKET_SESSION                                                                            \
    DOC("{'Effect':'Allow','Principal':{'AWS':'arn:aws:sts::" A1 ":assumed-role/Dev/alice-session'}," \
        "'Action':['s3:GetObject','s3:PutObject'],'Resource':'arn:aws:s3:::team/*'}")
#define P_BUCKET_ACCOUNT_ID                                                                         \
    DOC("{'Effect':'Allow','Principal':{'AWS':'" A4 "'},'Action':'s3:GetObject',"                  \
        "'Resource':'arn:aws:s3:::shared/*'}")
#define P_QUEUE_BOB                                                                                 \
    DOC("{'Effect':'Allow','Principal':{'AWS':'arn:aws:iam::" A1                                   \
        ":user/division_abc/subdivision_xyz/bob'},'Action':'sqs:SendMessage',"                     \
        "'Resource':'arn:aws:sqs:us-east-1:" A1 ":jobs'}")
#define P_QUEUE_ACCOUNT                                                                             \
    DOC("{'Effect':'Allow','Principal':{'AWS':'arn:aws:iam::" A1 ":root'},"                        \
        "'Action':'sqs:SendMessage','Resource':'arn:aws:sqs:us-east-1:" A1 ":jobs'}")
#define P_BUCKET_CANONICAL                                                                          \
    DOC("{'Effect':'Allow','Principal':{'CanonicalUser':"                                          \
        "'79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be'},"                     \
        "'Action':'s3:GetObject','Resource':'arn:aws:s3:::team/*'}")
/* "Amazon SNS: allow a topic to send to a queue" (SQS queue policy, service principal) */
#define P_QUEUE_SNS                                                                                 \
    DOC("{'Effect':'Allow','Principal':{'Service':'sns.amazonaws.com'},"                           \
        "'Action':'sqs:SendMessage','Resource':'arn:aws:sqs:us-east-2:" A1 ":MyQueue',"            \
        "'Condition':{'ArnEquals':{'aws:SourceArn':'arn:aws:sns:us-east-2:" A1 ":MyTopic'}}}")
#define P_QUEUE_SNS_LIKE                                                                            \
    DOC("{'Effect':'Allow','Principal':{'Service':'sns.amazonaws.com'},"                           \
        "'Action':'sqs:SendMessage','Resource':'arn:aws:sqs:us-east-2:" A1 ":MyQueue',"            \
        "'Condition':{'ArnLike':{'aws:SourceArn':'arn:aws:sns:*:" A1 ":*'}}}")
/* S3: confused-deputy protection with aws:SourceArn and aws:SourceAccount */
#define P_BUCKET_LOGS                                                                               \
    DOC("{'Effect':'Allow','Principal':{'Service':'logging.s3.amazonaws.com'},"                    \
        "'Action':'s3:PutObject','Resource':'arn:aws:s3:::logs/*','Condition':{"                   \
        "'ArnLike':{'aws:SourceArn':'arn:aws:s3:::source-*'},"                                     \
        "'StringEquals':{'aws:SourceAccount':'" A1 "'}}}")

/* NotPrincipal with Deny (IAM User Guide, "NotPrincipal"): the account ARN must be listed too */
#define P_NOTPRINC                                                                                  \
    DOC("{'Effect':'Allow','Principal':{'AWS':'" A4 "'},'Action':'s3:GetObject',"                  \
        "'Resource':'arn:aws:s3:::BUCKETNAME/*'},"                                                 \
        "{'Effect':'Deny','NotPrincipal':{'AWS':['arn:aws:iam::" A4 ":user/carol',"                \
        "'arn:aws:iam::" A4 ":root']},'Action':'s3:*',"                                            \
        "'Resource':['arn:aws:s3:::BUCKETNAME','arn:aws:s3:::BUCKETNAME/*']}")
#define P_NOTPRINC_USERONLY                                                                         \
    DOC("{'Effect':'Allow','Principal':{'AWS':'" A4 "'},'Action':'s3:GetObject',"                  \
        "'Resource':'arn:aws:s3:::BUCKETNAME/*'},"                                                 \
        "{'Effect':'Deny','NotPrincipal':{'AWS':['arn:aws:iam::" A4 ":user/carol']},"              \
        "'Action':'s3:*','Resource':['arn:aws:s3:::BUCKETNAME','arn:aws:s3:::BUCKETNAME/*']}")
#define P_NOTPRINC_ROLE                                                                             \
    DOC("{'Effect':'Deny','NotPrincipal':{'AWS':['arn:aws:iam::" A1 ":role/Dev',"                  \
        "'arn:aws:sts::" A1 ":assumed-role/Dev/alice-session','arn:aws:iam::" A1 ":root']},"       \
        "'Action':'s3:*','Resource':'arn:aws:s3:::BUCKETNAME/*'}")
#define P_NOTPRINC_ROLE_NOSESSION                                                                   \
    DOC("{'Effect':'Deny','NotPrincipal':{'AWS':['arn:aws:iam::" A1 ":role/Dev',"                  \
        "'arn:aws:iam::" A1 ":root']},'Action':'s3:*','Resource':'arn:aws:s3:::BUCKETNAME/*'}")

/* Role trust policies */
#define ROLE_PARTNER "arn:aws:iam::" A1 ":role/Partner"
/* "How to use an external ID when granting access to your AWS resources to a third party" */
#define P_TRUST_EXT                                                                                 \
    DOC("{'Effect':'Allow','Principal':{'AWS':'" A4 "'},'Action':'sts:AssumeRole',"                \
        "'Condition':{'StringEquals':{'sts:ExternalId':'Unique ID Assigned by Example Corp'}}}")
#define P_TRUST_SAME                                                                                \
    DOC("{'Effect':'Allow','Principal':{'AWS':'arn:aws:iam::" A1 ":root'},'Action':'sts:AssumeRole'}")
#define P_TRUST_ALICE                                                                               \
    DOC("{'Effect':'Allow','Principal':{'AWS':'arn:aws:iam::" A1 ":user/alice'},"                  \
        "'Action':'sts:AssumeRole'}")
#define P_TRUST_EC2                                                                                 \
    DOC("{'Effect':'Allow','Principal':{'Service':'ec2.amazonaws.com'},'Action':'sts:AssumeRole'}")
#define P_TRUST_GOOGLE                                                                              \
    DOC("{'Effect':'Allow','Principal':{'Federated':'accounts.google.com'},"                       \
        "'Action':'sts:AssumeRoleWithWebIdentity','Condition':{'StringEquals':{"                   \
        "'accounts.google.com:aud':'66677788899.apps.googleusercontent.com'}}}")
#define P_TRUST_ROLE                                                                                \
    DOC("{'Effect':'Allow','Principal':{'AWS':'arn:aws:iam::" A1 ":role/Dev'},"                    \
        "'Action':'sts:AssumeRole'}")
#define P_TRUST_MFA                                                                                 \
    DOC("{'Effect':'Allow','Principal':{'AWS':'arn:aws:iam::" A4 ":root'},"                        \
        "'Action':'sts:AssumeRole','Condition':{'Bool':{'aws:MultiFactorAuthPresent':'true'}}}")
#define P_ASSUME_ANY DOC("{'Effect':'Allow','Action':'sts:AssumeRole','Resource':'*'}")

/* Permissions boundaries ("Permissions boundaries for IAM entities") */
#define P_BND DOC("{'Effect':'Allow','Action':['s3:*','cloudwatch:*','ec2:*'],'Resource':'*'}")
#define P_BND_DENY                                                                                  \
    DOC("{'Effect':'Allow','Action':'*','Resource':'*'},"                                          \
        "{'Effect':'Deny','Action':'s3:DeleteBucket','Resource':'*'}")
#define P_ONLY_CREATEUSER DOC("{'Effect':'Allow','Action':'iam:CreateUser','Resource':'*'}")
#define P_ONLY_GET DOC("{'Effect':'Allow','Action':'s3:GetObject','Resource':'*'}")
#define P_ONLY_PUT DOC("{'Effect':'Allow','Action':'s3:PutObject','Resource':'*'}")
#define P_ONLY_EC2 DOC("{'Effect':'Allow','Action':'ec2:*','Resource':'*'}")

/* Session policies */
#define P_SES_DENY_DELETE                                                                           \
    DOC("{'Effect':'Allow','Action':'*','Resource':'*'},"                                          \
        "{'Effect':'Deny','Action':'s3:DeleteObject','Resource':'*'}")

/* Bucket policies: "Restricting access to specific IP addresses", "aws:SecureTransport" */
#define P_BP_IP                                                                                     \
    "{'Id':'S3PolicyId1','Version':'2012-10-17','Statement':[{'Sid':'IPAllow','Effect':'Deny',"    \
    "'Principal':'*','Action':'s3:*','Resource':['arn:aws:s3:::amzn-s3-demo-bucket',"              \
    "'arn:aws:s3:::amzn-s3-demo-bucket/*'],'Condition':{'NotIpAddress':{"                          \
    "'aws:SourceIp':'192.0.2.0/24'}}}]}"
#define P_BP_TLS                                                                                    \
    DOC("{'Sid':'AllowSSLRequestsOnly','Action':'s3:*','Effect':'Deny','Resource':["              \
        "'arn:aws:s3:::amzn-s3-demo-bucket','arn:aws:s3:::amzn-s3-demo-bucket/*'],"                \
        "'Condition':{'Bool':{'aws:SecureTransport':'false'}},'Principal':'*'}")
#define P_BP_TLS_JSONBOOL                                                                           \
    DOC("{'Action':'s3:*','Effect':'Deny','Resource':'arn:aws:s3:::amzn-s3-demo-bucket/*',"        \
        "'Condition':{'Bool':{'aws:SecureTransport':false}},'Principal':{'AWS':'*'}}")
#define P_BP_PUBLIC_IP                                                                              \
    DOC("{'Effect':'Allow','Principal':'*','Action':'s3:GetObject',"                               \
        "'Resource':'arn:aws:s3:::public-bucket/*','Condition':{'IpAddress':{"                     \
        "'aws:SourceIp':'198.51.100.0/24'}}}")
#define P_BP_ORG                                                                                    \
    DOC("{'Effect':'Allow','Principal':'*','Action':'s3:GetObject',"                               \
        "'Resource':'arn:aws:s3:::org-bucket/*','Condition':{'StringEquals':{"                     \
        "'aws:PrincipalOrgID':'o-a1b2c3d4e5'}}}")

/* Null */
#define P_NULL_TAG                                                                                  \
    DOC("{'Effect':'Allow','Action':'ec2:RunInstances','Resource':'*','Condition':{"               \
        "'Null':{'aws:RequestTag/Owner':'false'}}}")
#define P_NULL_TOKEN_DENY                                                                           \
    DOC("{'Effect':'Deny','Action':'*','Resource':'*','Condition':{"                               \
        "'Null':{'aws:TokenIssueTime':'true'}}}")

/* "Amazon S3: limit the number of keys a ListBucket returns" */
#define P_MAXKEYS                                                                                   \
    DOC("{'Effect':'Allow','Action':'s3:ListBucket','Resource':'arn:aws:s3:::amzn-s3-demo-bucket',"  \
        "'Condition':{'NumericLessThanEquals':{'s3:max-keys':'10'}}}")
#define P_MAXKEYS_LT                                                                                \
    DOC("{'Effect':'Allow','Action':'s3:ListBucket','Resource':'*',"                               \
        "'Condition':{'NumericLessThan':{'s3:max-keys':10}}}")
#define P_NUM_NE                                                                                    \
    DOC("{'Effect':'Allow','Action':'s3:ListBucket','Resource':'*',"                               \
        "'Condition':{'NumericNotEquals':{'s3:max-keys':['0','1000']}}}")
#define P_NUM_GE                                                                                    \
    DOC("{'Effect':'Allow','Action':'ec2:*','Resource':'*',"                                       \
        "'Condition':{'NumericGreaterThanEquals':{'ec2:VolumeSize':'100'}}}")

/* String operators */
#define P_STR_IC                                                                                    \
    DOC("{'Effect':'Allow','Action':'ec2:*','Resource':'*','Condition':{"                          \
        "'StringEqualsIgnoreCase':{'aws:PrincipalTag/Dept':'Engineering'}}}")
#define P_STR_EQ_DEPT                                                                               \
    DOC("{'Effect':'Allow','Action':'ec2:*','Resource':'*','Condition':{"                          \
        "'StringEquals':{'aws:PrincipalTag/Dept':'Engineering'}}}")
#define P_STR_NOT_IC_DENY                                                                           \
    DOC("{'Effect':'Deny','Action':'*','Resource':'*','Condition':{"                               \
        "'StringNotEqualsIgnoreCase':{'aws:PrincipalTag/Dept':'Engineering'}}}")
#define P_STR_LIKE_Q                                                                                \
    DOC("{'Effect':'Allow','Action':'s3:ListBucket','Resource':'*','Condition':{"                  \
        "'StringLike':{'s3:prefix':'logs/202?/*'}}}")
#define P_STR_NOTLIKE_DENY                                                                          \
    DOC("{'Effect':'Deny','Action':'s3:PutObject','Resource':'*','Condition':{"                    \
        "'StringNotLike':{'s3:x-amz-server-side-encryption':'aws:kms*'}}}")
#define P_ARN_NOTLIKE_DENY                                                                          \
    DOC("{'Effect':'Deny','Action':'iam:PassRole','Resource':'*','Condition':{"                    \
        "'ArnNotLike':{'iam:AssociatedResourceArn':'arn:aws:ec2:*:" A1 ":instance/*'}}}")
#define P_PRINCIPALARN                                                                              \
    DOC("{'Effect':'Allow','Action':'s3:*','Resource':'*','Condition':{"                           \
        "'ArnLike':{'aws:PrincipalArn':'arn:aws:iam::" A1 ":role/D*'}}}")
#define P_PRINCIPALARN_SESSION                                                                      \
    DOC("{'Effect':'Allow','Action':'s3:*','Resource':'*','Condition':{"                           \
        "'ArnLike':{'aws:PrincipalArn':'arn:aws:sts::" A1 ":assumed-role/*'}}}")
#define P_PRINCIPALACCOUNT                                                                          \
    DOC("{'Effect':'Allow','Action':'s3:*','Resource':'*','Condition':{"                           \
        "'StringEquals':{'aws:PrincipalAccount':'" A1 "'}}}")
#define P_PRINCIPALTYPE                                                                             \
    DOC("{'Effect':'Allow','Action':'s3:*','Resource':'*','Condition':{"                           \
        "'StringEquals':{'aws:PrincipalType':'AssumedRole'}}}")
#define P_USERNAME_COND                                                                             \
    DOC("{'Effect':'Allow','Action':'s3:*','Resource':'*','Condition':{"                           \
        "'StringEquals':{'aws:username':'alice'}}}")
#define P_BINARY                                                                                    \
    DOC("{'Effect':'Allow','Action':'dynamodb:*','Resource':'*','Condition':{"                     \
        "'BinaryEquals':{'dynamodb:Attributes':'QmluYXJ5VmFsdWU='}}}")
#define P_CASE_KEY                                                                                  \
    DOC("{'Effect':'Allow','Action':'s3:*','Resource':'*','Condition':{"                           \
        "'IpAddress':{'AWS:SOURCEIP':'192.0.2.0/24'}}}")
#define P_ARN_CASE                                                                                  \
    DOC("{'Effect':'Allow','Action':'sqs:*','Resource':'*','Condition':{"                          \
        "'ArnEquals':{'aws:SourceArn':'arn:aws:sns:us-east-2:" A1 ":MyTopic'}}}")

#define P_BP_DENY_NOT_SERVICE                                                                       \
    DOC("{'Effect':'Deny','Principal':'*','Action':'s3:PutObject','Resource':'arn:aws:s3:::logs/*',"\
        "'Condition':{'Bool':{'aws:PrincipalIsAWSService':'false'}}},"                             \
        "{'Effect':'Allow','Principal':{'Service':'logging.s3.amazonaws.com'},"                    \
        "'Action':'s3:PutObject','Resource':'arn:aws:s3:::logs/*'}")

/* Multiple values (OR), multiple keys and operators (AND) */
#define P_OR                                                                                        \
    DOC("{'Effect':'Allow','Action':'ec2:*','Resource':'*','Condition':{"                          \
        "'StringEquals':{'aws:RequestedRegion':['us-east-1','us-west-2']}}}")
#define P_AND_KEYS                                                                                  \
    DOC("{'Effect':'Allow','Action':'ec2:*','Resource':'*','Condition':{"                          \
        "'StringEquals':{'aws:RequestedRegion':'us-east-1','aws:PrincipalTag/team':'red'}}}")
#define P_AND_OPS                                                                                   \
    DOC("{'Effect':'Allow','Action':'ec2:*','Resource':'*','Condition':{"                          \
        "'IpAddress':{'aws:SourceIp':'192.0.2.0/24'},"                                             \
        "'DateLessThan':{'aws:CurrentTime':'2030-01-01T00:00:00Z'}}}")
#define P_TWO_STMTS                                                                                 \
    DOC("{'Effect':'Allow','Action':'ec2:*','Resource':'*','Condition':{"                          \
        "'StringEquals':{'aws:RequestedRegion':'us-east-1'}}},"                                    \
        "{'Effect':'Allow','Action':'ec2:*','Resource':'*','Condition':{"                          \
        "'StringEquals':{'aws:PrincipalTag/team':'red'}}}")

/* IfExists ("...IfExists condition operators": the EC2 instance type example) */
#define P_IFEXISTS                                                                                  \
    DOC("{'Effect':'Allow','Action':'ec2:*','Resource':'*','Condition':{"                          \
        "'StringLikeIfExists':{'ec2:InstanceType':['t1.*','t2.*','m3.*']}}}")
#define P_NUM_IFEXISTS                                                                              \
    DOC("{'Effect':'Allow','Action':'s3:ListBucket','Resource':'*','Condition':{"                  \
        "'NumericLessThanEqualsIfExists':{'s3:max-keys':'100'}}}")
#define P_NOT_IFEXISTS_DENY                                                                         \
    DOC("{'Effect':'Deny','Action':'ec2:RunInstances','Resource':'*','Condition':{"                \
        "'StringNotEqualsIfExists':{'ec2:InstanceType':'t2.micro'}}}")

/* Explicit denies */
#define P_DENY_DELETEBUCKET DOC("{'Effect':'Deny','Action':'s3:DeleteBucket','Resource':'*'}")
#define P_DENY_S3 DOC("{'Effect':'Deny','Action':'s3:*','Resource':'*'}")
#define P_DENY_S3_COND                                                                              \
    DOC("{'Effect':'Deny','Action':'s3:*','Resource':'*','Condition':{"                            \
        "'StringEquals':{'aws:RequestedRegion':'ap-south-1'}}}")
#define P_BUCKET_DENY_ALL                                                                           \
    DOC("{'Effect':'Deny','Principal':'*','Action':'s3:DeleteObject','Resource':'arn:aws:s3:::team/*'}")

/* ---------------------------------------------------------------------------------------------
 * Evaluation cases
 * ------------------------------------------------------------------------------------------- */

#define BK "arn:aws:s3:::bucket-name"
#define HOME "arn:aws:s3:::my-company"

static const struct eval_case EVAL_CASES[] = {
    /* -- S3: one bucket -- */
    {"bucket: ListBucket on the bucket", .id = {P_BUCKET}, .who = ALICE, .action = "s3:ListBucket", .res = BK, .want = ALLOW, WHY(NB_AUTHZ_ALLOWED_BY_IDENTITY)},
    {"bucket: GetObject", .id = {P_BUCKET}, .who = ALICE, .action = "s3:GetObject", .res = BK "/photo.jpg", .want = ALLOW},
    {"bucket: PutObject", .id = {P_BUCKET}, .who = ALICE, .action = "s3:PutObject", .res = BK "/photo.jpg", .want = ALLOW},
    {"bucket: DeleteObject", .id = {P_BUCKET}, .who = ALICE, .action = "s3:DeleteObject", .res = BK "/photo.jpg", .want = ALLOW},
    {"bucket: deep key, * spans slashes", .id = {P_BUCKET}, .who = ALICE, .action = "s3:GetObject", .res = BK "/a/b/c.txt", .want = ALLOW},
    {"bucket: key with a colon", .id = {P_BUCKET}, .who = ALICE, .action = "s3:GetObject", .res = BK "/a:b", .want = ALLOW},
    {"bucket: s3:*Object does not match GetObjectAcl", .id = {P_BUCKET}, .who = ALICE, .action = "s3:GetObjectAcl", .res = BK "/photo.jpg", .want = IDENY},
    {"bucket: s3:*Object does not match PutObjectTagging", .id = {P_BUCKET}, .who = ALICE, .action = "s3:PutObjectTagging", .res = BK "/photo.jpg", .want = IDENY},
    {"bucket: ListBucket on another bucket", .id = {P_BUCKET}, .who = ALICE, .action = "s3:ListBucket", .res = "arn:aws:s3:::other-bucket", .want = IDENY},
    {"bucket: GetObject in another bucket", .id = {P_BUCKET}, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::other-bucket/photo.jpg", .want = IDENY},
    {"bucket: name prefix is not the bucket", .id = {P_BUCKET}, .who = ALICE, .action = "s3:GetObject", .res = BK "-logs/x", .want = IDENY},
    {"bucket: object actions on the bucket ARN", .id = {P_BUCKET}, .who = ALICE, .action = "s3:GetObject", .res = BK, .want = IDENY},
    {"bucket: ListAllMyBuckets denied", .id = {P_BUCKET}, .who = ALICE, .action = "s3:ListAllMyBuckets", .want = IDENY, WHY(NB_AUTHZ_DENIED_NO_IDENTITY)},
    {"bucket: DeleteBucket denied", .id = {P_BUCKET}, .who = ALICE, .action = "s3:DeleteBucket", .res = BK, .want = IDENY},
    {"bucket: nothing in IAM", .id = {P_BUCKET}, .who = ALICE, .action = "iam:ListUsers", .want = IDENY},
    {"bucket: resource ARNs are case-sensitive", .id = {P_BUCKET}, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::Bucket-Name/photo.jpg", .want = IDENY},
    {"bucket: request action case-insensitive", .id = {P_BUCKET}, .who = ALICE, .action = "S3:getobject", .res = BK "/photo.jpg", .want = ALLOW},
    {"bucket: same policy on a role session", .id = {P_BUCKET}, .who = DEV, .action = "s3:GetObject", .res = BK "/photo.jpg", .want = ALLOW},

    {"bucket: ListBucket on a longer bucket name", .id = {P_BUCKET}, .who = ALICE, .action = "s3:ListBucket", .res = BK "2", .want = IDENY},
    {"bucket: ListBucket on a shorter bucket name", .id = {P_BUCKET}, .who = ALICE, .action = "s3:ListBucket", .res = "arn:aws:s3:::bucket", .want = IDENY},
    {"odd: ${} is literal text", .id = {P_ODD_RES}, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::b/${}x", .want = ALLOW},
    {"odd: ${} is literal text, longer key", .id = {P_ODD_RES}, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::b/${}xy", .want = IDENY},
    {"odd: a backslash is a plain character", .id = {P_ODD_RES}, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::b/a\\rest", .want = ALLOW},
    {"odd: the backslash is required", .id = {P_ODD_RES}, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::b/arest", .want = IDENY},
    {"odd: backslash between two variables", .id = {P_ODD_RES}, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::b/alice\\alice", .want = ALLOW},
    {"odd: backslash between two variables, other user", .id = {P_ODD_RES}, .who = BOB, .action = "s3:GetObject", .res = "arn:aws:s3:::b/alice\\alice", .want = IDENY},

    /* -- wildcard actions -- */
    {"wild: s3:Get* matches GetObject", .id = {P_GETLIST}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .want = ALLOW},
    {"wild: s3:Get* matches GetBucketPolicy", .id = {P_GETLIST}, .who = ALICE, .action = "s3:GetBucketPolicy", .res = BK, .want = ALLOW},
    {"wild: s3:List* matches ListBucket", .id = {P_GETLIST}, .who = ALICE, .action = "s3:ListBucket", .res = BK, .want = ALLOW},
    {"wild: s3:Get* case-insensitive", .id = {P_GETLIST}, .who = ALICE, .action = "s3:getobjectversion", .res = BK "/k", .want = ALLOW},
    {"wild: s3:Get* does not match PutObject", .id = {P_GETLIST}, .who = ALICE, .action = "s3:PutObject", .res = BK "/k", .want = IDENY},
    {"wild: s3:Get* does not match another vendor", .id = {P_GETLIST}, .who = ALICE, .action = "ec2:GetConsoleOutput", .want = IDENY},
    {"wild: iam:*User* matches CreateUser", .id = {P_IAMUSER}, .who = ALICE, .action = "iam:CreateUser", .want = ALLOW},
    {"wild: iam:*User* matches ListUsers", .id = {P_IAMUSER}, .who = ALICE, .action = "iam:ListUsers", .want = ALLOW},
    {"wild: iam:*User* matches AddUserToGroup", .id = {P_IAMUSER}, .who = ALICE, .action = "iam:AddUserToGroup", .want = ALLOW},
    {"wild: iam:*User* matches ListGroupsForUser", .id = {P_IAMUSER}, .who = ALICE, .action = "iam:ListGroupsForUser", .want = ALLOW},
    {"wild: iam:*User* does not match CreateRole", .id = {P_IAMUSER}, .who = ALICE, .action = "iam:CreateRole", .want = IDENY},
    {"wild: iam:*User* does not match sso:CreateUser", .id = {P_IAMUSER}, .who = ALICE, .action = "sso:CreateUser", .want = IDENY},
    {"wild: ? is one character", .id = {P_QMARK}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .want = ALLOW},
    {"wild: ? needs a character", .id = {P_QMARK}, .who = ALICE, .action = "s3:etObject", .res = BK "/k", .want = IDENY},
    {"wild: ? does not stretch", .id = {P_QMARK}, .who = ALICE, .action = "s3:GetObjectAcl", .res = BK "/k", .want = IDENY},
    {"wild: s3:* does not match s3control", .id = {P_S3ALL}, .who = ALICE, .action = "s3control:CreateJob", .want = IDENY},
    {"wild: s3:* matches any s3 action", .id = {P_S3ALL}, .who = ALICE, .action = "s3:PutBucketPolicy", .res = BK, .want = ALLOW},
    {"wild: Action * matches everything", .id = {ALLOW_ALL}, .who = ALICE, .action = "kms:Decrypt", .res = "arn:aws:kms:us-east-1:" A1 ":key/1", .want = ALLOW},
    {"case: policy action in capitals", .id = {P_UPPER}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .want = ALLOW},

    /* -- source IP -- */
    {"ip: inside the first range", .id = {ALLOW_ALL, P_DENY_IP}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:SourceIp':'192.0.2.10','aws:ViaAWSService':'false'}", .want = ALLOW},
    {"ip: last address of the second range", .id = {ALLOW_ALL, P_DENY_IP}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:SourceIp':'203.0.113.255','aws:ViaAWSService':'false'}", .want = ALLOW},
    {"ip: outside both ranges is denied", .id = {ALLOW_ALL, P_DENY_IP}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:SourceIp':'198.51.100.7','aws:ViaAWSService':'false'}", .want = EDENY, WHY(NB_AUTHZ_DENIED_EXPLICIT)},
    {"ip: next /24 is outside", .id = {ALLOW_ALL, P_DENY_IP}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:SourceIp':'192.0.3.1','aws:ViaAWSService':'false'}", .want = EDENY},
    {"ip: via an AWS service the deny does not apply", .id = {ALLOW_ALL, P_DENY_IP}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:SourceIp':'198.51.100.7','aws:ViaAWSService':'true'}", .want = ALLOW},
    {"ip: NotIpAddress on a missing key is true", .id = {ALLOW_ALL, P_DENY_IP}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:ViaAWSService':'false'}", .want = EDENY},
    {"ip: IPv6 caller outside IPv4-only ranges is denied", .id = {ALLOW_ALL, P_DENY_IP}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:SourceIp':'2001:db8::5','aws:ViaAWSService':'false'}", .want = EDENY},
    {"ip: IPv4-mapped IPv6 caller read as IPv4", .id = {ALLOW_ALL, P_DENY_IP}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:SourceIp':'::ffff:192.0.2.10','aws:ViaAWSService':'false'}", .want = ALLOW},
    {"ip46: IPv4 in range", .id = {P_IP46}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .ctx = "{'aws:SourceIp':'192.0.2.1'}", .want = ALLOW},
    {"ip46: IPv4 not in IpAddress", .id = {P_IP46}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .ctx = "{'aws:SourceIp':'203.0.113.1'}", .want = IDENY},
    {"ip46: IPv6 in the /64", .id = {P_IP46}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .ctx = "{'aws:SourceIp':'2001:db8:1234:5678::1'}", .want = ALLOW},
    {"ip46: IPv6 in the excluded /80", .id = {P_IP46}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .ctx = "{'aws:SourceIp':'2001:db8:1234:5678:abcd::1'}", .want = IDENY},
    {"ip46: IPv6 outside the /64", .id = {P_IP46}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .ctx = "{'aws:SourceIp':'2001:db8:1234:5679::1'}", .want = IDENY},
    {"ip46: IPv6 written in full, capitals", .id = {P_IP46}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .ctx = "{'aws:SourceIp':'2001:DB8:1234:5678:0:0:0:1'}", .want = ALLOW},
    {"ip46: IpAddress on a missing key is false", .id = {P_IP46}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .want = IDENY},
    {"ip: a bare address is a /32", .id = {P_IP_ONE}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .ctx = "{'aws:SourceIp':'203.0.113.7'}", .want = ALLOW},
    {"ip: a bare address matches only itself", .id = {P_IP_ONE}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .ctx = "{'aws:SourceIp':'203.0.113.8'}", .want = IDENY},
    {"ip: 0.0.0.0/0 matches any IPv4", .id = {P_IP_ANY4}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .ctx = "{'aws:SourceIp':'8.8.8.8'}", .want = ALLOW},
    {"ip: 0.0.0.0/0 does not match IPv6", .id = {P_IP_ANY4}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .ctx = "{'aws:SourceIp':'2001:db8::1'}", .want = IDENY},

    /* -- MFA -- */
    {"mfa: present allows", .id = {P_MFA_ALLOW}, .who = ALICE, .action = "ec2:StopInstances", .ctx = "{'aws:MultiFactorAuthPresent':'true'}", .want = ALLOW},
    {"mfa: false does not allow", .id = {P_MFA_ALLOW}, .who = ALICE, .action = "ec2:StopInstances", .ctx = "{'aws:MultiFactorAuthPresent':'false'}", .want = IDENY},
    {"mfa: long-term keys (key absent) do not allow", .id = {P_MFA_ALLOW}, .who = ALICE, .action = "ec2:StopInstances", .want = IDENY},
    {"mfa: JSON true in the policy", .id = {P_MFA_ALLOW_JSONBOOL}, .who = ALICE, .action = "ec2:StopInstances", .ctx = "{'aws:MultiFactorAuthPresent':'true'}", .want = ALLOW},
    {"mfa: Bool value read case-insensitively", .id = {P_MFA_ALLOW}, .who = ALICE, .action = "ec2:StopInstances", .ctx = "{'aws:MultiFactorAuthPresent':'True'}", .want = ALLOW},
    {"mfa: BoolIfExists deny catches long-term keys", .id = {ALLOW_ALL, P_MFA_DENY_IFEXISTS}, .who = ALICE, .action = "ec2:StopInstances", .want = EDENY},
    {"mfa: BoolIfExists deny catches false", .id = {ALLOW_ALL, P_MFA_DENY_IFEXISTS}, .who = ALICE, .action = "ec2:StopInstances", .ctx = "{'aws:MultiFactorAuthPresent':'false'}", .want = EDENY},
    {"mfa: BoolIfExists deny passes MFA", .id = {ALLOW_ALL, P_MFA_DENY_IFEXISTS}, .who = ALICE, .action = "ec2:StopInstances", .ctx = "{'aws:MultiFactorAuthPresent':'true'}", .want = ALLOW},
    {"mfa: plain Bool false misses long-term keys (documented pitfall)", .id = {ALLOW_ALL, P_MFA_DENY_BOOL}, .who = ALICE, .action = "ec2:StopInstances", .want = ALLOW},
    {"mfa: plain Bool false denies false", .id = {ALLOW_ALL, P_MFA_DENY_BOOL}, .who = ALICE, .action = "ec2:StopInstances", .ctx = "{'aws:MultiFactorAuthPresent':'false'}", .want = EDENY},
    {"mfa: age below the limit", .id = {P_MFA_AGE}, .who = ALICE, .action = "ec2:StopInstances", .ctx = "{'aws:MultiFactorAuthAge':'300'}", .want = ALLOW},
    {"mfa: age at the limit (strict)", .id = {P_MFA_AGE}, .who = ALICE, .action = "ec2:StopInstances", .ctx = "{'aws:MultiFactorAuthAge':'3600'}", .want = IDENY},
    {"mfa: age absent", .id = {P_MFA_AGE}, .who = ALICE, .action = "ec2:StopInstances", .want = IDENY},
    {"mfa: Null deny when the age is absent", .id = {ALLOW_ALL, P_MFA_NULL_DENY}, .who = ALICE, .action = "ec2:StopInstances", .want = EDENY},
    {"mfa: Null deny passes when the age is present", .id = {ALLOW_ALL, P_MFA_NULL_DENY}, .who = ALICE, .action = "ec2:StopInstances", .ctx = "{'aws:MultiFactorAuthAge':'30'}", .want = ALLOW},
    {"mfa-self: enable own MFA without MFA", .id = {P_MFA_SELF}, .who = ALICE, .action = "iam:EnableMFADevice", .res = "arn:aws:iam::" A1 ":user/alice", .want = ALLOW},
    {"mfa-self: not on another user", .id = {P_MFA_SELF}, .who = ALICE, .action = "iam:EnableMFADevice", .res = "arn:aws:iam::" A1 ":user/bob", .want = IDENY},
    {"mfa-self: deactivate needs MFA", .id = {P_MFA_SELF}, .who = ALICE, .action = "iam:DeactivateMFADevice", .res = "arn:aws:iam::" A1 ":user/alice", .want = EDENY},
    {"mfa-self: deactivate with MFA", .id = {P_MFA_SELF}, .who = ALICE, .action = "iam:DeactivateMFADevice", .res = "arn:aws:iam::" A1 ":user/alice", .ctx = "{'aws:MultiFactorAuthPresent':'true'}", .want = ALLOW},
    {"mfa-self: create virtual device", .id = {P_MFA_SELF}, .who = ALICE, .action = "iam:CreateVirtualMFADevice", .res = "arn:aws:iam::" A1 ":mfa/alice", .want = ALLOW},
    {"mfa-self: anything else without MFA is denied", .id = {P_MFA_SELF}, .who = ALICE, .action = "s3:ListAllMyBuckets", .want = EDENY},
    {"mfa-self: anything else with MFA is not allowed", .id = {P_MFA_SELF}, .who = ALICE, .action = "s3:ListAllMyBuckets", .ctx = "{'aws:MultiFactorAuthPresent':'true'}", .want = IDENY},

    /* -- dates -- */
    {"date: inside the window", .id = {P_DATES}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:CurrentTime':'2020-05-15T12:00:00Z'}", .want = ALLOW},
    {"date: DateGreaterThan is strict", .id = {P_DATES}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:CurrentTime':'2020-04-01T00:00:00Z'}", .want = IDENY},
    {"date: one second after the start", .id = {P_DATES}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:CurrentTime':'2020-04-01T00:00:01Z'}", .want = ALLOW},
    {"date: DateLessThan is strict", .id = {P_DATES}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:CurrentTime':'2020-06-30T23:59:59Z'}", .want = IDENY},
    {"date: after the window", .id = {P_DATES}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:CurrentTime':'2020-07-01T00:00:00Z'}", .want = IDENY},
    {"date: before the window", .id = {P_DATES}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:CurrentTime':'2019-12-31T23:00:00Z'}", .want = IDENY},
    {"date: key absent", .id = {P_DATES}, .who = ALICE, .action = "ec2:RunInstances", .want = IDENY},
    {"date: zone offsets are applied", .id = {P_DATES}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:CurrentTime':'2020-04-01T01:30:00+02:00'}", .want = IDENY},
    {"date: fractions of a second", .id = {P_DATES}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:CurrentTime':'2020-06-30T23:59:58.999Z'}", .want = ALLOW},
    {"date: epoch seconds at the bound", .id = {P_EPOCH}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:EpochTime':'1585699200'}", .want = ALLOW},
    {"date: epoch seconds below the bound", .id = {P_EPOCH}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:EpochTime':'1585699199'}", .want = IDENY},
    {"date: epoch against an ISO bound", .id = {P_DATES}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:CurrentTime':'1589544000'}", .want = ALLOW},
    {"date: DateEquals", .id = {P_DATE_EQ}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:CurrentTime':'2020-01-01T00:00:00Z'}", .want = ALLOW},
    {"date: DateEquals, other instant", .id = {P_DATE_EQ}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:CurrentTime':'2020-01-01T00:00:01Z'}", .want = IDENY},
    {"revoke: sessions issued before are denied", .id = {ALLOW_ALL, P_REVOKE}, .who = DEV, .action = "s3:GetObject", .res = BK "/k", .ctx = "{'aws:TokenIssueTime':'2014-05-07T20:00:00Z'}", .want = EDENY},
    {"revoke: sessions issued after are allowed", .id = {ALLOW_ALL, P_REVOKE}, .who = DEV, .action = "s3:GetObject", .res = BK "/k", .ctx = "{'aws:TokenIssueTime':'2014-05-08T00:00:00Z'}", .want = ALLOW},
    {"revoke: long-term keys have no token time", .id = {ALLOW_ALL, P_REVOKE}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .want = ALLOW},

    /* -- home folders: ${aws:username} -- */
    {"home: list the root with a delimiter", .id = {P_HOME}, .who = ALICE, .action = "s3:ListBucket", .res = HOME, .ctx = "{'s3:prefix':'','s3:delimiter':'/'}", .want = ALLOW},
    {"home: list home/ with a delimiter", .id = {P_HOME}, .who = ALICE, .action = "s3:ListBucket", .res = HOME, .ctx = "{'s3:prefix':'home/','s3:delimiter':'/'}", .want = ALLOW},
    {"home: list own folder name", .id = {P_HOME}, .who = ALICE, .action = "s3:ListBucket", .res = HOME, .ctx = "{'s3:prefix':'home/alice','s3:delimiter':'/'}", .want = ALLOW},
    {"home: not another user's folder name", .id = {P_HOME}, .who = ALICE, .action = "s3:ListBucket", .res = HOME, .ctx = "{'s3:prefix':'home/bob','s3:delimiter':'/'}", .want = IDENY},
    {"home: both keys are needed (AND)", .id = {P_HOME}, .who = ALICE, .action = "s3:ListBucket", .res = HOME, .ctx = "{'s3:prefix':'home/'}", .want = IDENY},
    {"home: StringLike inside own folder", .id = {P_HOME}, .who = ALICE, .action = "s3:ListBucket", .res = HOME, .ctx = "{'s3:prefix':'home/alice/photos/'}", .want = ALLOW},
    {"home: StringLike, another user's folder", .id = {P_HOME}, .who = ALICE, .action = "s3:ListBucket", .res = HOME, .ctx = "{'s3:prefix':'home/bob/'}", .want = IDENY},
    {"home: bob (user with a path) lists his folder", .id = {P_HOME}, .who = BOB, .action = "s3:ListBucket", .res = HOME, .ctx = "{'s3:prefix':'home/bob/'}", .want = ALLOW},
    {"home: get own object", .id = {P_HOME}, .who = ALICE, .action = "s3:GetObject", .res = HOME "/home/alice/notes.txt", .want = ALLOW},
    {"home: put deep in own folder", .id = {P_HOME}, .who = ALICE, .action = "s3:PutObject", .res = HOME "/home/alice/a/b/c", .want = ALLOW},
    {"home: not another user's object", .id = {P_HOME}, .who = ALICE, .action = "s3:GetObject", .res = HOME "/home/bob/notes.txt", .want = IDENY},
    {"home: folder itself is outside folder/*", .id = {P_HOME}, .who = ALICE, .action = "s3:GetObject", .res = HOME "/home/alice", .want = IDENY},
    {"home: roles have no aws:username: nothing matches", .id = {P_HOME}, .who = DEV, .action = "s3:GetObject", .res = HOME "/home//x", .want = IDENY},
    {"home: the variable is not literal text in 2012-10-17", .id = {P_HOME}, .who = DEV, .action = "s3:GetObject", .res = HOME "/home/${aws:username}/x", .want = IDENY},
    {"var: default when the tag is absent", .id = {P_DEPT}, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::bucket/company-wide/x", .want = ALLOW},
    {"var: tag value when present", .id = {P_DEPT}, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::bucket/hr/x", .ctx = "{'aws:PrincipalTag/department':'hr'}", .want = ALLOW},
    {"var: default unused when the tag is present", .id = {P_DEPT}, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::bucket/company-wide/x", .ctx = "{'aws:PrincipalTag/department':'hr'}", .want = IDENY},
    {"var: ${aws:userid} of a role session", .id = {P_USERID}, .who = DEV, .action = "s3:GetObject", .res = "arn:aws:s3:::bucket/AROADEVEXAMPLE000001:alice-session/x", .want = ALLOW},
    {"var: ${aws:userid} of a user", .id = {P_USERID}, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::bucket/AIDAALICEEXAMPLE0001/x", .want = ALLOW},
    {"var: ${*} ${?} ${$} are literal characters", .id = {P_LITERAL_STAR}, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::bucket/a*b?c$", .want = ALLOW},
    {"var: ${*} is not a wildcard", .id = {P_LITERAL_STAR}, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::bucket/axxbyc$", .want = IDENY},
    {"var: in a condition value", .id = {P_VAR_COND}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .ctx = "{'s3:ExistingObjectTag/owner':'alice'}", .want = ALLOW},
    {"var: in a condition value, other owner", .id = {P_VAR_COND}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .ctx = "{'s3:ExistingObjectTag/owner':'bob'}", .want = IDENY},
    {"var: principal tag in a resource", .id = {P_PRINCIPALTAG_RES}, .who = DEV, .action = "dynamodb:GetItem", .res = "arn:aws:dynamodb:us-east-1:" A1 ":table/blue-orders", .ctx = "{'aws:PrincipalTag/team':'blue'}", .want = ALLOW},
    {"var: principal tag in a resource, other team", .id = {P_PRINCIPALTAG_RES}, .who = DEV, .action = "dynamodb:GetItem", .res = "arn:aws:dynamodb:us-east-1:" A1 ":table/red-orders", .ctx = "{'aws:PrincipalTag/team':'blue'}", .want = IDENY},

    /* -- tags -- */
    {"abac: matching Project tags", .id = {P_TAG_MATCH}, .who = DEV, .action = "ec2:StartInstances", .res = "arn:aws:ec2:us-east-1:" A1 ":instance/i-1", .ctx = "{'aws:ResourceTag/Project':'Blue','aws:PrincipalTag/Project':'Blue'}", .want = ALLOW},
    {"abac: different Project tags", .id = {P_TAG_MATCH}, .who = DEV, .action = "ec2:StartInstances", .res = "arn:aws:ec2:us-east-1:" A1 ":instance/i-1", .ctx = "{'aws:ResourceTag/Project':'Blue','aws:PrincipalTag/Project':'Red'}", .want = IDENY},
    {"abac: principal untagged", .id = {P_TAG_MATCH}, .who = DEV, .action = "ec2:StartInstances", .res = "arn:aws:ec2:us-east-1:" A1 ":instance/i-1", .ctx = "{'aws:ResourceTag/Project':'Blue'}", .want = IDENY},
    {"abac: resource untagged", .id = {P_TAG_MATCH}, .who = DEV, .action = "ec2:StartInstances", .res = "arn:aws:ec2:us-east-1:" A1 ":instance/i-1", .ctx = "{'aws:PrincipalTag/Project':'Blue'}", .want = IDENY},
    {"abac: tag keys are case-insensitive", .id = {P_TAG_MATCH}, .who = DEV, .action = "ec2:StopInstances", .res = "arn:aws:ec2:us-east-1:" A1 ":instance/i-1", .ctx = "{'aws:resourcetag/project':'Blue','aws:PrincipalTag/PROJECT':'Blue'}", .want = ALLOW},
    {"abac: tag values are case-sensitive", .id = {P_TAG_MATCH}, .who = DEV, .action = "ec2:StopInstances", .res = "arn:aws:ec2:us-east-1:" A1 ":instance/i-1", .ctx = "{'aws:ResourceTag/Project':'blue','aws:PrincipalTag/Project':'Blue'}", .want = IDENY},
    {"reqtag: allowed cost center", .id = {P_TAG_CREATE}, .who = ALICE, .action = "iam:CreateUser", .ctx = "{'aws:RequestTag/CostCenter':'A-123','aws:TagKeys':['CostCenter']}", .want = ALLOW},
    {"reqtag: second allowed value (OR)", .id = {P_TAG_CREATE}, .who = ALICE, .action = "iam:CreateUser", .ctx = "{'aws:RequestTag/CostCenter':'B-456','aws:TagKeys':['CostCenter']}", .want = ALLOW},
    {"reqtag: other value", .id = {P_TAG_CREATE}, .who = ALICE, .action = "iam:CreateUser", .ctx = "{'aws:RequestTag/CostCenter':'C-789','aws:TagKeys':['CostCenter']}", .want = IDENY},
    {"reqtag: an extra tag key fails ForAllValues", .id = {P_TAG_CREATE}, .who = ALICE, .action = "iam:CreateUser", .ctx = "{'aws:RequestTag/CostCenter':'A-123','aws:RequestTag/Owner':'me','aws:TagKeys':['CostCenter','Owner']}", .want = IDENY},
    {"reqtag: no tags at all", .id = {P_TAG_CREATE}, .who = ALICE, .action = "iam:CreateUser", .want = IDENY},
    {"reqtag: aws:TagKeys values are case-sensitive", .id = {P_TAG_CREATE}, .who = ALICE, .action = "iam:CreateUser", .ctx = "{'aws:RequestTag/costcenter':'A-123','aws:TagKeys':['costcenter']}", .want = IDENY},
    {"forany-deny: unrelated tag key", .id = {ALLOW_ALL, P_TAG_DENY_ANY}, .who = ALICE, .action = "ec2:CreateTags", .ctx = "{'aws:TagKeys':['Name']}", .want = ALLOW},
    {"forany-deny: one listed key denies", .id = {ALLOW_ALL, P_TAG_DENY_ANY}, .who = ALICE, .action = "ec2:CreateTags", .ctx = "{'aws:TagKeys':['Name','Environment']}", .want = EDENY},
    {"forany-deny: no tag keys: ForAnyValue is false", .id = {ALLOW_ALL, P_TAG_DENY_ANY}, .who = ALICE, .action = "ec2:CreateTags", .want = ALLOW},
    {"forall: subset", .id = {P_FORALL}, .who = ALICE, .action = "ec2:CreateTags", .ctx = "{'aws:TagKeys':['Name']}", .want = ALLOW},
    {"forall: whole set", .id = {P_FORALL}, .who = ALICE, .action = "ec2:CreateTags", .ctx = "{'aws:TagKeys':['Owner','Name']}", .want = ALLOW},
    {"forall: one outside the set", .id = {P_FORALL}, .who = ALICE, .action = "ec2:CreateTags", .ctx = "{'aws:TagKeys':['Name','Env']}", .want = IDENY},
    {"forall: absent key matches (documented)", .id = {P_FORALL}, .who = ALICE, .action = "ec2:CreateTags", .want = ALLOW},
    {"forall: empty set matches", .id = {P_FORALL}, .who = ALICE, .action = "ec2:CreateTags", .ctx = "{'aws:TagKeys':[]}", .want = ALLOW},
    {"forall: single-valued context", .id = {P_FORALL}, .who = ALICE, .action = "ec2:CreateTags", .ctx = "{'aws:TagKeys':'Owner'}", .want = ALLOW},
    {"forall: an empty string is a null dataset (documented)", .id = {P_FORALL}, .who = ALICE, .action = "ec2:CreateTags", .ctx = "{'aws:TagKeys':''}", .want = ALLOW},
    {"forany-not: an empty string is a null dataset (documented)", .id = {ALLOW_ALL, P_FORANY_NOT_DENY}, .who = ALICE, .action = "ec2:CreateTags", .ctx = "{'aws:TagKeys':['']}", .want = ALLOW},
    {"plain StringEquals still matches an empty string", .id = {P_HOME}, .who = ALICE, .action = "s3:ListBucket", .res = HOME, .ctx = "{'s3:prefix':'','s3:delimiter':'/'}", .want = ALLOW},
    {"forany: one in the set", .id = {P_FORANY}, .who = ALICE, .action = "ec2:CreateTags", .ctx = "{'aws:TagKeys':['Env','Name']}", .want = ALLOW},
    {"forany: none in the set", .id = {P_FORANY}, .who = ALICE, .action = "ec2:CreateTags", .ctx = "{'aws:TagKeys':['Env']}", .want = IDENY},
    {"forany: absent key does not match", .id = {P_FORANY}, .who = ALICE, .action = "ec2:CreateTags", .want = IDENY},
    {"forall-like: wildcards", .id = {P_FORALL_LIKE}, .who = ALICE, .action = "ec2:CreateTags", .ctx = "{'aws:TagKeys':['proj-a','Name','proj-b']}", .want = ALLOW},
    {"forall-like: one not matching", .id = {P_FORALL_LIKE}, .who = ALICE, .action = "ec2:CreateTags", .ctx = "{'aws:TagKeys':['proj-a','cost']}", .want = IDENY},
    {"forany-not: a key outside the list denies", .id = {ALLOW_ALL, P_FORANY_NOT_DENY}, .who = ALICE, .action = "ec2:CreateTags", .ctx = "{'aws:TagKeys':['Name','Env']}", .want = EDENY},
    {"forany-not: only listed keys pass", .id = {ALLOW_ALL, P_FORANY_NOT_DENY}, .who = ALICE, .action = "ec2:CreateTags", .ctx = "{'aws:TagKeys':['Name','Owner']}", .want = ALLOW},
    {"forany-not: absent key passes", .id = {ALLOW_ALL, P_FORANY_NOT_DENY}, .who = ALICE, .action = "ec2:CreateTags", .want = ALLOW},
    {"forall-not: no forbidden key", .id = {P_FORALL_NOT}, .who = ALICE, .action = "ec2:CreateTags", .ctx = "{'aws:TagKeys':['a','b']}", .want = ALLOW},
    {"forall-not: a forbidden key", .id = {P_FORALL_NOT}, .who = ALICE, .action = "ec2:CreateTags", .ctx = "{'aws:TagKeys':['a','Secret']}", .want = IDENY},
    {"restag: StringLike on a resource tag", .id = {P_RESTAG_LIKE}, .who = ALICE, .action = "ec2:RebootInstances", .ctx = "{'aws:ResourceTag/Env':'prod-eu'}", .want = ALLOW},
    {"restag: StringLike is case-sensitive", .id = {P_RESTAG_LIKE}, .who = ALICE, .action = "ec2:RebootInstances", .ctx = "{'aws:ResourceTag/Env':'Prod-eu'}", .want = IDENY},

    /* -- NotAction -- */
    {"notaction-deny: S3 without MFA", .id = {ALLOW_ALL, P_DENY_NOT_MFA}, .who = ALICE, .action = "s3:ListAllMyBuckets", .want = EDENY},
    {"notaction-deny: IAM without MFA", .id = {ALLOW_ALL, P_DENY_NOT_MFA}, .who = ALICE, .action = "iam:ListUsers", .want = ALLOW},
    {"notaction-deny: GetSessionToken without MFA", .id = {ALLOW_ALL, P_DENY_NOT_MFA}, .who = ALICE, .action = "sts:GetSessionToken", .want = ALLOW},
    {"notaction-deny: AssumeRole without MFA", .id = {ALLOW_ALL, P_DENY_NOT_MFA}, .who = ALICE, .action = "sts:AssumeRole", .want = EDENY},
    {"notaction-deny: EC2 with MFA", .id = {ALLOW_ALL, P_DENY_NOT_MFA}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:MultiFactorAuthPresent':'true'}", .want = ALLOW},
    {"region: EC2 outside the Regions", .id = {ALLOW_ALL, P_REGION}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:RequestedRegion':'us-east-1'}", .want = EDENY},
    {"region: EC2 in eu-west-1", .id = {ALLOW_ALL, P_REGION}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:RequestedRegion':'eu-west-1'}", .want = ALLOW},
    {"region: EC2 in eu-central-1", .id = {ALLOW_ALL, P_REGION}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:RequestedRegion':'eu-central-1'}", .want = ALLOW},
    {"region: IAM is global", .id = {ALLOW_ALL, P_REGION}, .who = ALICE, .action = "iam:CreateUser", .ctx = "{'aws:RequestedRegion':'us-east-1'}", .want = ALLOW},
    {"region: NotAction matched case-insensitively", .id = {ALLOW_ALL, P_REGION}, .who = ALICE, .action = "IAM:createuser", .ctx = "{'aws:RequestedRegion':'us-east-1'}", .want = ALLOW},
    {"region: Route 53", .id = {ALLOW_ALL, P_REGION}, .who = ALICE, .action = "route53:ChangeResourceRecordSets", .ctx = "{'aws:RequestedRegion':'us-east-1'}", .want = ALLOW},
    {"region: StringNotEquals on an absent key is true", .id = {ALLOW_ALL, P_REGION}, .who = ALICE, .action = "ec2:RunInstances", .want = EDENY},
    {"poweruser: EC2", .id = {P_POWER}, .who = ALICE, .action = "ec2:RunInstances", .want = ALLOW},
    {"poweruser: not IAM", .id = {P_POWER}, .who = ALICE, .action = "iam:CreateUser", .want = IDENY},
    {"poweruser: ListRoles is allowed", .id = {P_POWER}, .who = ALICE, .action = "iam:ListRoles", .want = ALLOW},
    {"poweruser: service-linked roles", .id = {P_POWER}, .who = ALICE, .action = "iam:CreateServiceLinkedRole", .want = ALLOW},
    {"poweruser: not Organizations", .id = {P_POWER}, .who = ALICE, .action = "organizations:ListAccounts", .want = IDENY},
    {"poweruser: account:ListRegions", .id = {P_POWER}, .who = ALICE, .action = "account:ListRegions", .want = ALLOW},

    /* -- NotResource -- */
    {"notres-deny: inside Payroll", .id = {ALLOW_ALL, P_NOTRES_DENY}, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::HRBucket/Payroll/jan.csv", .want = ALLOW},
    {"notres-deny: the Payroll key itself", .id = {ALLOW_ALL, P_NOTRES_DENY}, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::HRBucket/Payroll", .want = ALLOW},
    {"notres-deny: elsewhere in the bucket", .id = {ALLOW_ALL, P_NOTRES_DENY}, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::HRBucket/Other", .want = EDENY},
    {"notres-deny: the bucket ARN", .id = {ALLOW_ALL, P_NOTRES_DENY}, .who = ALICE, .action = "s3:ListBucket", .res = "arn:aws:s3:::HRBucket", .want = EDENY},
    {"notres-deny: other services", .id = {ALLOW_ALL, P_NOTRES_DENY}, .who = ALICE, .action = "ec2:DescribeInstances", .want = ALLOW},
    {"notres-allow: another bucket", .id = {P_NOTRES_ALLOW}, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::public/x", .want = ALLOW},
    {"notres-allow: the excluded bucket", .id = {P_NOTRES_ALLOW}, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::secret-bucket/x", .want = IDENY},
    {"notres-allow: actions without a resource", .id = {P_NOTRES_ALLOW}, .who = ALICE, .action = "s3:ListAllMyBuckets", .want = ALLOW},

    /* -- resource policies: principals and accounts -- */
    {"xacct: other account's user, both sides allow", .id = {P_ONLY_GET}, .rp = P_XACCT_BUCKET, .who = CAROL, .action = "s3:GetObject", .res = "arn:aws:s3:::shared/k", .racct = A1, .want = ALLOW},
    {"xacct: other account's user without identity policy", .rp = P_XACCT_BUCKET, .who = CAROL, .action = "s3:GetObject", .res = "arn:aws:s3:::shared/k", .racct = A1, .want = IDENY, WHY(NB_AUTHZ_DENIED_NO_IDENTITY)},
    {"xacct: action outside the bucket policy", .id = {ALLOW_ALL}, .rp = P_XACCT_BUCKET, .who = CAROL, .action = "s3:PutObject", .res = "arn:aws:s3:::shared/k", .racct = A1, .want = IDENY, WHY(NB_AUTHZ_DENIED_NO_RESOURCE)},
    {"xacct: trusted account's root", .rp = P_XACCT_BUCKET, .who = XROOT, .action = "s3:ListBucket", .res = "arn:aws:s3:::shared", .racct = A1, .want = ALLOW, WHY(NB_AUTHZ_ALLOWED_BY_RESOURCE)},
    {"xacct: trusted account's role session", .id = {P_S3ALL}, .rp = P_XACCT_BUCKET, .who = XAUD, .action = "s3:GetObject", .res = "arn:aws:s3:::shared/k", .racct = A1, .want = ALLOW},
    {"xacct: owner's user with identity policy", .id = {P_ONLY_GET}, .rp = P_XACCT_BUCKET, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::shared/k", .racct = A1, .want = ALLOW},
    {"xacct: owner's user without identity policy", .rp = P_XACCT_BUCKET, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::shared/k", .racct = A1, .want = IDENY},
    {"xacct: owner's root", .rp = P_XACCT_BUCKET, .who = ROOT, .action = "s3:DeleteBucket", .res = "arn:aws:s3:::shared", .racct = A1, .want = ALLOW, WHY(NB_AUTHZ_ALLOWED_AS_ROOT)},
    {"xacct: anonymous is not the account", .rp = P_XACCT_BUCKET, .who = ANON, .action = "s3:GetObject", .res = "arn:aws:s3:::shared/k", .racct = A1, .want = IDENY},
    {"xacct: no resource policy, identity alone is not enough", .id = {ALLOW_ALL}, .who = CAROL, .action = "s3:GetObject", .res = "arn:aws:s3:::shared/k", .racct = A1, .want = IDENY, WHY(NB_AUTHZ_DENIED_NO_RESOURCE)},
    {"xacct: account given as 12 digits", .id = {P_ONLY_GET}, .rp = P_BUCKET_ACCOUNT_ID, .who = CAROL, .action = "s3:GetObject", .res = "arn:aws:s3:::shared/k", .racct = A1, .want = ALLOW},
    {"xacct: named user, no identity policy", .rp = P_BUCKET_CAROL, .who = CAROL, .action = "s3:GetObject", .res = "arn:aws:s3:::team/k", .racct = A1, .want = IDENY},
    {"xacct: named user with identity policy", .id = {P_ONLY_GET}, .rp = P_BUCKET_CAROL, .who = CAROL, .action = "s3:GetObject", .res = "arn:aws:s3:::team/k", .racct = A1, .want = ALLOW},
    {"same: bucket policy naming the user is enough", .rp = P_BUCKET_BOB, .who = BOB, .action = "s3:GetObject", .res = "arn:aws:s3:::team/k", .racct = A1, .want = ALLOW, WHY(NB_AUTHZ_ALLOWED_BY_RESOURCE)},
    {"same: not for another user", .rp = P_BUCKET_BOB, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::team/k", .racct = A1, .want = IDENY},
    {"same: not for another action", .rp = P_BUCKET_BOB, .who = BOB, .action = "s3:PutObject", .res = "arn:aws:s3:::team/k", .racct = A1, .want = IDENY},
    {"same: naming the account delegates to identity policies", .rp = P_QUEUE_ACCOUNT, .who = BOB, .action = "sqs:SendMessage", .res = "arn:aws:sqs:us-east-1:" A1 ":jobs", .racct = A1, .want = IDENY},
    {"same: naming the account, identity allows", .id = {ALLOW_ALL}, .rp = P_QUEUE_ACCOUNT, .who = BOB, .action = "sqs:SendMessage", .res = "arn:aws:sqs:us-east-1:" A1 ":jobs", .racct = A1, .want = ALLOW},
    {"same: bucket policy naming the role", .rp = P_BUCKET_ROLE, .who = DEV, .action = "s3:GetObject", .res = "arn:aws:s3:::team/k", .racct = A1, .want = ALLOW},
    {"same: bucket policy naming the session", .rp = P_BUCKET_SESSION, .who = DEV, .action = "s3:PutObject", .res = "arn:aws:s3:::team/k", .racct = A1, .want = ALLOW},
    {"same: canonical user names the root", .rp = P_BUCKET_CANONICAL, .who = ROOT, .action = "s3:GetObject", .res = "arn:aws:s3:::team/k", .racct = A4, .want = ALLOW},
    {"same: canonical user is the account, not each user", .rp = P_BUCKET_CANONICAL, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::team/k", .racct = A1, .want = IDENY},
    {"public: anonymous read", .rp = P_PUBLIC, .who = ANON, .action = "s3:GetObject", .res = "arn:aws:s3:::public-bucket/index.html", .racct = A1, .want = ALLOW, WHY(NB_AUTHZ_ALLOWED_BY_RESOURCE)},
    {"public: anonymous write denied", .rp = P_PUBLIC, .who = ANON, .action = "s3:PutObject", .res = "arn:aws:s3:::public-bucket/index.html", .racct = A1, .want = IDENY, WHY(NB_AUTHZ_DENIED_NO_RESOURCE)},
    {"public: anonymous, other bucket", .rp = P_PUBLIC, .who = ANON, .action = "s3:GetObject", .res = "arn:aws:s3:::private/index.html", .racct = A1, .want = IDENY},
    {"public: {AWS: *} also means everyone", .rp = P_PUBLIC_AWSSTAR, .who = ANON, .action = "s3:GetObject", .res = "arn:aws:s3:::public-bucket/a", .racct = A1, .want = ALLOW},
    {"public: same-account user without identity policy", .rp = P_PUBLIC, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::public-bucket/a", .racct = A1, .want = ALLOW},
    {"public: other account's user needs its own allow", .rp = P_PUBLIC, .who = CAROL, .action = "s3:GetObject", .res = "arn:aws:s3:::public-bucket/a", .racct = A1, .want = IDENY},
    {"public: other account's user with identity allow", .id = {P_ONLY_GET}, .rp = P_PUBLIC, .who = CAROL, .action = "s3:GetObject", .res = "arn:aws:s3:::public-bucket/a", .racct = A1, .want = ALLOW},
    {"public: condition on the caller's IP", .rp = P_BP_PUBLIC_IP, .who = ANON, .action = "s3:GetObject", .res = "arn:aws:s3:::public-bucket/a", .racct = A1, .ctx = "{'aws:SourceIp':'198.51.100.20'}", .want = ALLOW},
    {"public: condition on the caller's IP, outside", .rp = P_BP_PUBLIC_IP, .who = ANON, .action = "s3:GetObject", .res = "arn:aws:s3:::public-bucket/a", .racct = A1, .ctx = "{'aws:SourceIp':'192.0.2.20'}", .want = IDENY},
    {"org: principal in the organization", .id = {P_ONLY_GET}, .rp = P_BP_ORG, .who = CAROL, .action = "s3:GetObject", .res = "arn:aws:s3:::org-bucket/a", .racct = A1, .ctx = "{'aws:PrincipalOrgID':'o-a1b2c3d4e5'}", .want = ALLOW},
    {"org: anonymous has no org id", .rp = P_BP_ORG, .who = ANON, .action = "s3:GetObject", .res = "arn:aws:s3:::org-bucket/a", .racct = A1, .want = IDENY},
    {"sns->sqs: from the topic", .rp = P_QUEUE_SNS, .who = SNS, .action = "sqs:SendMessage", .res = "arn:aws:sqs:us-east-2:" A1 ":MyQueue", .racct = A1, .ctx = "{'aws:SourceArn':'arn:aws:sns:us-east-2:" A1 ":MyTopic'}", .want = ALLOW},
    {"sns->sqs: from another topic", .rp = P_QUEUE_SNS, .who = SNS, .action = "sqs:SendMessage", .res = "arn:aws:sqs:us-east-2:" A1 ":MyQueue", .racct = A1, .ctx = "{'aws:SourceArn':'arn:aws:sns:us-east-2:" A1 ":Other'}", .want = IDENY},
    {"sns->sqs: without a source ARN", .rp = P_QUEUE_SNS, .who = SNS, .action = "sqs:SendMessage", .res = "arn:aws:sqs:us-east-2:" A1 ":MyQueue", .racct = A1, .want = IDENY},
    {"sns->sqs: ArnEquals is case-sensitive", .rp = P_QUEUE_SNS, .who = SNS, .action = "sqs:SendMessage", .res = "arn:aws:sqs:us-east-2:" A1 ":MyQueue", .racct = A1, .ctx = "{'aws:SourceArn':'arn:aws:sns:us-east-2:" A1 ":mytopic'}", .want = IDENY},
    {"sns->sqs: the service principal does not name users", .rp = P_QUEUE_SNS, .who = ALICE, .action = "sqs:SendMessage", .res = "arn:aws:sqs:us-east-2:" A1 ":MyQueue", .racct = A1, .ctx = "{'aws:SourceArn':'arn:aws:sns:us-east-2:" A1 ":MyTopic'}", .want = IDENY},
    {"sns->sqs: nor anonymous callers", .rp = P_QUEUE_SNS, .who = ANON, .action = "sqs:SendMessage", .res = "arn:aws:sqs:us-east-2:" A1 ":MyQueue", .racct = A1, .ctx = "{'aws:SourceArn':'arn:aws:sns:us-east-2:" A1 ":MyTopic'}", .want = IDENY},
    {"sns->sqs: ArnLike any Region and topic", .rp = P_QUEUE_SNS_LIKE, .who = SNS, .action = "sqs:SendMessage", .res = "arn:aws:sqs:us-east-2:" A1 ":MyQueue", .racct = A1, .ctx = "{'aws:SourceArn':'arn:aws:sns:eu-west-1:" A1 ":T'}", .want = ALLOW},
    {"sns->sqs: ArnLike, topic of another account", .rp = P_QUEUE_SNS_LIKE, .who = SNS, .action = "sqs:SendMessage", .res = "arn:aws:sqs:us-east-2:" A1 ":MyQueue", .racct = A1, .ctx = "{'aws:SourceArn':'arn:aws:sns:eu-west-1:" A4 ":T'}", .want = IDENY},
    {"sns->sqs: ArnLike compares components, not text", .rp = P_QUEUE_SNS_LIKE, .who = SNS, .action = "sqs:SendMessage", .res = "arn:aws:sqs:us-east-2:" A1 ":MyQueue", .racct = A1, .ctx = "{'aws:SourceArn':'arn:aws:sns:eu-west-1:" A4 ":x:" A1 ":T'}", .want = IDENY},
    {"logs: source bucket and account", .rp = P_BUCKET_LOGS, .who = S3LOG, .action = "s3:PutObject", .res = "arn:aws:s3:::logs/k", .racct = A1, .ctx = "{'aws:SourceArn':'arn:aws:s3:::source-bucket','aws:SourceAccount':'" A1 "'}", .want = ALLOW},
    {"logs: confused deputy (other account)", .rp = P_BUCKET_LOGS, .who = S3LOG, .action = "s3:PutObject", .res = "arn:aws:s3:::logs/k", .racct = A1, .ctx = "{'aws:SourceArn':'arn:aws:s3:::source-bucket','aws:SourceAccount':'" A4 "'}", .want = IDENY},

    {"principalisawsservice: the service passes", .rp = P_BP_DENY_NOT_SERVICE, .who = S3LOG, .action = "s3:PutObject", .res = "arn:aws:s3:::logs/k", .racct = A1, .want = ALLOW},
    {"principalisawsservice: users are denied", .id = {ALLOW_ALL}, .rp = P_BP_DENY_NOT_SERVICE, .who = ALICE, .action = "s3:PutObject", .res = "arn:aws:s3:::logs/k", .racct = A1, .want = EDENY},

    /* -- NotPrincipal -- */
    {"notprincipal: listed user of the other account", .id = {P_ONLY_GET}, .rp = P_NOTPRINC, .who = CAROL, .action = "s3:GetObject", .res = "arn:aws:s3:::BUCKETNAME/k", .racct = A1, .want = ALLOW},
    {"notprincipal: listed account root", .rp = P_NOTPRINC, .who = XROOT, .action = "s3:GetObject", .res = "arn:aws:s3:::BUCKETNAME/k", .racct = A1, .want = ALLOW},
    {"notprincipal: owner's user is denied", .id = {ALLOW_ALL}, .rp = P_NOTPRINC, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::BUCKETNAME/k", .racct = A1, .want = EDENY, WHY(NB_AUTHZ_DENIED_EXPLICIT)},
    {"notprincipal: owner's root is denied", .rp = P_NOTPRINC, .who = ROOT, .action = "s3:GetObject", .res = "arn:aws:s3:::BUCKETNAME/k", .racct = A1, .want = EDENY},
    {"notprincipal: anonymous is denied", .rp = P_NOTPRINC, .who = ANON, .action = "s3:GetObject", .res = "arn:aws:s3:::BUCKETNAME/k", .racct = A1, .want = EDENY},
    {"notprincipal: unlisted role session of the listed account", .id = {ALLOW_ALL}, .rp = P_NOTPRINC, .who = XAUD, .action = "s3:GetObject", .res = "arn:aws:s3:::BUCKETNAME/k", .racct = A1, .want = EDENY},
    {"notprincipal: user listed without its account is denied", .id = {ALLOW_ALL}, .rp = P_NOTPRINC_USERONLY, .who = CAROL, .action = "s3:GetObject", .res = "arn:aws:s3:::BUCKETNAME/k", .racct = A1, .want = EDENY},
    {"notprincipal: role, session and account listed", .id = {ALLOW_ALL}, .rp = P_NOTPRINC_ROLE, .who = DEV, .action = "s3:GetObject", .res = "arn:aws:s3:::BUCKETNAME/k", .racct = A1, .want = ALLOW},
    {"notprincipal: session ARN missing", .id = {ALLOW_ALL}, .rp = P_NOTPRINC_ROLE_NOSESSION, .who = DEV, .action = "s3:GetObject", .res = "arn:aws:s3:::BUCKETNAME/k", .racct = A1, .want = EDENY},
    {"notprincipal: a user of the listed account is still denied", .id = {ALLOW_ALL}, .rp = P_NOTPRINC_ROLE, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::BUCKETNAME/k", .racct = A1, .want = EDENY},

    /* -- role trust policies -- */
    {"trust: external id matches", .id = {P_ASSUME_ANY}, .rp = P_TRUST_EXT, .trust = true, .who = CAROL, .action = "sts:AssumeRole", .res = ROLE_PARTNER, .racct = A1, .ctx = "{'sts:ExternalId':'Unique ID Assigned by Example Corp'}", .want = ALLOW},
    {"trust: wrong external id", .id = {P_ASSUME_ANY}, .rp = P_TRUST_EXT, .trust = true, .who = CAROL, .action = "sts:AssumeRole", .res = ROLE_PARTNER, .racct = A1, .ctx = "{'sts:ExternalId':'guess'}", .want = IDENY},
    {"trust: external id is case-sensitive", .id = {P_ASSUME_ANY}, .rp = P_TRUST_EXT, .trust = true, .who = CAROL, .action = "sts:AssumeRole", .res = ROLE_PARTNER, .racct = A1, .ctx = "{'sts:ExternalId':'unique id assigned by example corp'}", .want = IDENY},
    {"trust: external id missing", .id = {P_ASSUME_ANY}, .rp = P_TRUST_EXT, .trust = true, .who = CAROL, .action = "sts:AssumeRole", .res = ROLE_PARTNER, .racct = A1, .want = IDENY},
    {"trust: the caller's account must allow AssumeRole too", .rp = P_TRUST_EXT, .trust = true, .who = CAROL, .action = "sts:AssumeRole", .res = ROLE_PARTNER, .racct = A1, .ctx = "{'sts:ExternalId':'Unique ID Assigned by Example Corp'}", .want = IDENY, WHY(NB_AUTHZ_DENIED_NO_IDENTITY)},
    {"trust: trusted account's root", .rp = P_TRUST_EXT, .trust = true, .who = XROOT, .action = "sts:AssumeRole", .res = ROLE_PARTNER, .racct = A1, .ctx = "{'sts:ExternalId':'Unique ID Assigned by Example Corp'}", .want = ALLOW},
    {"trust: not named, an admin of the role's account is refused", .id = {ALLOW_ALL}, .rp = P_TRUST_EXT, .trust = true, .who = ALICE, .action = "sts:AssumeRole", .res = ROLE_PARTNER, .racct = A1, .ctx = "{'sts:ExternalId':'Unique ID Assigned by Example Corp'}", .want = IDENY, WHY(NB_AUTHZ_DENIED_NO_RESOURCE)},
    {"trust: action not in the trust policy", .id = {ALLOW_ALL}, .rp = P_TRUST_EXT, .trust = true, .who = CAROL, .action = "sts:TagSession", .res = ROLE_PARTNER, .racct = A1, .ctx = "{'sts:ExternalId':'Unique ID Assigned by Example Corp'}", .want = IDENY},
    {"trust: own account trusted, identity allows", .id = {P_ASSUME_ANY}, .rp = P_TRUST_SAME, .trust = true, .who = ALICE, .action = "sts:AssumeRole", .res = ROLE_PARTNER, .racct = A1, .want = ALLOW},
    {"trust: own account trusted, no identity allow", .rp = P_TRUST_SAME, .trust = true, .who = ALICE, .action = "sts:AssumeRole", .res = ROLE_PARTNER, .racct = A1, .want = IDENY},
    {"trust: user named directly needs no identity allow", .rp = P_TRUST_ALICE, .trust = true, .who = ALICE, .action = "sts:AssumeRole", .res = ROLE_PARTNER, .racct = A1, .want = ALLOW},
    {"trust: another user of the account with admin rights", .id = {ALLOW_ALL}, .rp = P_TRUST_ALICE, .trust = true, .who = BOB, .action = "sts:AssumeRole", .res = ROLE_PARTNER, .racct = A1, .want = IDENY},
    {"trust: EC2 service", .rp = P_TRUST_EC2, .trust = true, .who = EC2SVC, .action = "sts:AssumeRole", .res = ROLE_PARTNER, .racct = A1, .want = ALLOW},
    {"trust: another service", .rp = P_TRUST_EC2, .trust = true, .who = SNS, .action = "sts:AssumeRole", .res = ROLE_PARTNER, .racct = A1, .want = IDENY},
    {"trust: service role, user with admin rights", .id = {ALLOW_ALL}, .rp = P_TRUST_EC2, .trust = true, .who = ALICE, .action = "sts:AssumeRole", .res = ROLE_PARTNER, .racct = A1, .want = IDENY},
    {"trust: web identity with the audience", .rp = P_TRUST_GOOGLE, .trust = true, .who = GOOGLE, .action = "sts:AssumeRoleWithWebIdentity", .res = ROLE_PARTNER, .racct = A1, .ctx = "{'accounts.google.com:aud':'66677788899.apps.googleusercontent.com'}", .want = ALLOW},
    {"trust: web identity, other audience", .rp = P_TRUST_GOOGLE, .trust = true, .who = GOOGLE, .action = "sts:AssumeRoleWithWebIdentity", .res = ROLE_PARTNER, .racct = A1, .ctx = "{'accounts.google.com:aud':'other'}", .want = IDENY},
    {"trust: web identity, plain AssumeRole", .rp = P_TRUST_GOOGLE, .trust = true, .who = GOOGLE, .action = "sts:AssumeRole", .res = ROLE_PARTNER, .racct = A1, .ctx = "{'accounts.google.com:aud':'66677788899.apps.googleusercontent.com'}", .want = IDENY},
    {"trust: role chaining, the role is named", .rp = P_TRUST_ROLE, .trust = true, .who = DEV, .action = "sts:AssumeRole", .res = ROLE_PARTNER, .racct = A1, .want = ALLOW},
    {"trust: cross-account with MFA", .id = {P_ASSUME_ANY}, .rp = P_TRUST_MFA, .trust = true, .who = CAROL, .action = "sts:AssumeRole", .res = ROLE_PARTNER, .racct = A1, .ctx = "{'aws:MultiFactorAuthPresent':'true'}", .want = ALLOW},
    {"trust: cross-account without MFA", .id = {P_ASSUME_ANY}, .rp = P_TRUST_MFA, .trust = true, .who = CAROL, .action = "sts:AssumeRole", .res = ROLE_PARTNER, .racct = A1, .want = IDENY},
    {"trust: the role's own account root, not trusted", .rp = P_TRUST_EXT, .trust = true, .who = ROOT, .action = "sts:AssumeRole", .res = ROLE_PARTNER, .racct = A1, .want = IDENY},

    /* -- permissions boundaries -- */
    {"boundary: inside both", .id = {ALLOW_ALL}, .bnd = P_BND, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .want = ALLOW},
    {"boundary: identity allows, boundary does not", .id = {ALLOW_ALL}, .bnd = P_BND, .who = ALICE, .action = "iam:CreateUser", .want = IDENY, WHY(NB_AUTHZ_DENIED_NO_BOUNDARY)},
    {"boundary: only CreateUser allowed, outside the boundary", .id = {P_ONLY_CREATEUSER}, .bnd = P_BND, .who = ALICE, .action = "iam:CreateUser", .want = IDENY},
    {"boundary: the boundary alone grants nothing", .id = {P_ONLY_GET}, .bnd = P_BND, .who = ALICE, .action = "s3:PutObject", .res = BK "/k", .want = IDENY, WHY(NB_AUTHZ_DENIED_NO_IDENTITY)},
    {"boundary: explicit deny in the boundary", .id = {ALLOW_ALL}, .bnd = P_BND_DENY, .who = ALICE, .action = "s3:DeleteBucket", .res = BK, .want = EDENY, WHY(NB_AUTHZ_DENIED_EXPLICIT)},
    {"boundary: on a role session", .id = {ALLOW_ALL}, .bnd = P_BND, .who = DEV, .action = "iam:CreateUser", .want = IDENY},
    {"boundary: resource policy naming the user is not limited", .rp = P_QUEUE_BOB, .bnd = P_BND, .who = BOB, .action = "sqs:SendMessage", .res = "arn:aws:sqs:us-east-1:" A1 ":jobs", .racct = A1, .want = ALLOW},
    {"boundary: resource policy naming the account is limited", .id = {ALLOW_ALL}, .rp = P_QUEUE_ACCOUNT, .bnd = P_BND, .who = BOB, .action = "sqs:SendMessage", .res = "arn:aws:sqs:us-east-1:" A1 ":jobs", .racct = A1, .want = IDENY},
    {"boundary: resource policy naming the role is limited", .rp = P_BUCKET_ROLE, .bnd = P_ONLY_EC2, .who = DEV, .action = "s3:GetObject", .res = "arn:aws:s3:::team/k", .racct = A1, .want = IDENY, WHY(NB_AUTHZ_DENIED_NO_BOUNDARY)},
    {"boundary: resource policy naming the session is not limited", .rp = P_BUCKET_SESSION, .bnd = P_ONLY_EC2, .who = DEV, .action = "s3:GetObject", .res = "arn:aws:s3:::team/k", .racct = A1, .want = ALLOW},
    {"boundary: cross-account, both sides allow", .id = {ALLOW_ALL}, .bnd = P_BND, .rp = P_XACCT_BUCKET, .who = CAROL, .action = "s3:GetObject", .res = "arn:aws:s3:::shared/k", .racct = A1, .want = ALLOW},
    {"boundary: cross-account, boundary does not allow", .id = {ALLOW_ALL}, .bnd = P_ONLY_EC2, .rp = P_XACCT_BUCKET, .who = CAROL, .action = "s3:GetObject", .res = "arn:aws:s3:::shared/k", .racct = A1, .want = IDENY},

    /* -- session policies -- */
    {"session: inside the session policy", .id = {ALLOW_ALL}, .ses = {P_ONLY_GET}, .who = DEV, .action = "s3:GetObject", .res = BK "/k", .want = ALLOW},
    {"session: outside the session policy", .id = {ALLOW_ALL}, .ses = {P_ONLY_GET}, .who = DEV, .action = "s3:PutObject", .res = BK "/k", .want = IDENY, WHY(NB_AUTHZ_DENIED_NO_SESSION)},
    {"session: grants nothing the role lacks", .id = {P_ONLY_EC2}, .ses = {ALLOW_ALL}, .who = DEV, .action = "s3:GetObject", .res = BK "/k", .want = IDENY, WHY(NB_AUTHZ_DENIED_NO_IDENTITY)},
    {"session: explicit deny in a session policy", .id = {ALLOW_ALL}, .ses = {P_SES_DENY_DELETE}, .who = DEV, .action = "s3:DeleteObject", .res = BK "/k", .want = EDENY},
    {"session: inline + managed form one set (first)", .id = {ALLOW_ALL}, .ses = {P_ONLY_GET, P_ONLY_PUT}, .who = DEV, .action = "s3:GetObject", .res = BK "/k", .want = ALLOW},
    {"session: inline + managed form one set (second)", .id = {ALLOW_ALL}, .ses = {P_ONLY_GET, P_ONLY_PUT}, .who = DEV, .action = "s3:PutObject", .res = BK "/k", .want = ALLOW},
    {"session: inline + managed, neither", .id = {ALLOW_ALL}, .ses = {P_ONLY_GET, P_ONLY_PUT}, .who = DEV, .action = "s3:DeleteObject", .res = BK "/k", .want = IDENY},
    {"session: resource policy naming the role, session allows", .rp = P_BUCKET_ROLE, .ses = {P_ONLY_GET}, .who = DEV, .action = "s3:GetObject", .res = "arn:aws:s3:::team/k", .racct = A1, .want = ALLOW},
    {"session: resource policy naming the role, session does not", .rp = P_BUCKET_ROLE, .ses = {P_ONLY_GET}, .who = DEV, .action = "s3:ListBucket", .res = "arn:aws:s3:::team", .racct = A1, .want = IDENY, WHY(NB_AUTHZ_DENIED_NO_SESSION)},
    {"session: resource policy naming the session is not limited", .rp = P_BUCKET_SESSION, .ses = {P_ONLY_GET}, .who = DEV, .action = "s3:PutObject", .res = "arn:aws:s3:::team/k", .racct = A1, .want = ALLOW},
    {"session: federated user", .id = {ALLOW_ALL}, .ses = {P_ONLY_GET}, .who = FRED, .action = "s3:PutObject", .res = BK "/k", .want = IDENY},
    {"session: federated user, allowed action", .id = {ALLOW_ALL}, .ses = {P_ONLY_GET}, .who = FRED, .action = "s3:GetObject", .res = BK "/k", .want = ALLOW},

    /* -- bucket policies: aws:SourceIp, aws:SecureTransport -- */
    {"bp-ip: inside the range", .id = {ALLOW_ALL}, .rp = P_BP_IP, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::amzn-s3-demo-bucket/k", .racct = A1, .ctx = "{'aws:SourceIp':'192.0.2.9'}", .want = ALLOW},
    {"bp-ip: outside the range", .id = {ALLOW_ALL}, .rp = P_BP_IP, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::amzn-s3-demo-bucket/k", .racct = A1, .ctx = "{'aws:SourceIp':'198.51.100.1'}", .want = EDENY, WHY(NB_AUTHZ_DENIED_EXPLICIT)},
    {"bp-ip: applies to the root user too", .rp = P_BP_IP, .who = ROOT, .action = "s3:PutObject", .res = "arn:aws:s3:::amzn-s3-demo-bucket/k", .racct = A1, .ctx = "{'aws:SourceIp':'198.51.100.1'}", .want = EDENY},
    {"bp-ip: a deny-only policy grants nothing", .rp = P_BP_IP, .who = ANON, .action = "s3:GetObject", .res = "arn:aws:s3:::amzn-s3-demo-bucket/k", .racct = A1, .ctx = "{'aws:SourceIp':'192.0.2.9'}", .want = IDENY},
    {"bp-ip: other buckets unaffected", .id = {ALLOW_ALL}, .rp = P_BP_IP, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::elsewhere/k", .racct = A1, .ctx = "{'aws:SourceIp':'198.51.100.1'}", .want = ALLOW},
    {"bp-tls: plain HTTP denied", .id = {ALLOW_ALL}, .rp = P_BP_TLS, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::amzn-s3-demo-bucket/k", .racct = A1, .ctx = "{'aws:SecureTransport':'false'}", .want = EDENY},
    {"bp-tls: HTTPS allowed", .id = {ALLOW_ALL}, .rp = P_BP_TLS, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::amzn-s3-demo-bucket/k", .racct = A1, .ctx = "{'aws:SecureTransport':'true'}", .want = ALLOW},
    {"bp-tls: key absent, Bool is false", .id = {ALLOW_ALL}, .rp = P_BP_TLS, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::amzn-s3-demo-bucket/k", .racct = A1, .want = ALLOW},
    {"bp-tls: anonymous over HTTP", .rp = P_BP_TLS, .who = ANON, .action = "s3:GetObject", .res = "arn:aws:s3:::amzn-s3-demo-bucket/k", .racct = A1, .ctx = "{'aws:SecureTransport':'false'}", .want = EDENY},
    {"bp-tls: JSON false in the policy", .id = {ALLOW_ALL}, .rp = P_BP_TLS_JSONBOOL, .who = ALICE, .action = "s3:GetObject", .res = "arn:aws:s3:::amzn-s3-demo-bucket/k", .racct = A1, .ctx = "{'aws:SecureTransport':'false'}", .want = EDENY},
    {"bp-tls: the bucket ARN is covered too", .id = {ALLOW_ALL}, .rp = P_BP_TLS, .who = ALICE, .action = "s3:ListBucket", .res = "arn:aws:s3:::amzn-s3-demo-bucket", .racct = A1, .ctx = "{'aws:SecureTransport':'false'}", .want = EDENY},

    /* -- Null -- */
    {"null: required tag present", .id = {P_NULL_TAG}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:RequestTag/Owner':'alice'}", .want = ALLOW},
    {"null: required tag absent", .id = {P_NULL_TAG}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:RequestTag/Other':'x'}", .want = IDENY},
    {"null: long-term credentials denied", .id = {ALLOW_ALL, P_NULL_TOKEN_DENY}, .who = ALICE, .action = "ec2:RunInstances", .want = EDENY},
    {"null: temporary credentials pass", .id = {ALLOW_ALL, P_NULL_TOKEN_DENY}, .who = DEV, .action = "ec2:RunInstances", .ctx = "{'aws:TokenIssueTime':'2024-01-01T00:00:00Z'}", .want = ALLOW},
    {"null: key name is case-insensitive", .id = {P_NULL_TAG}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'AWS:REQUESTTAG/OWNER':'alice'}", .want = ALLOW},

    /* -- numbers -- */
    {"maxkeys: below", .id = {P_MAXKEYS}, .who = ALICE, .action = "s3:ListBucket", .res = "arn:aws:s3:::amzn-s3-demo-bucket", .ctx = "{'s3:max-keys':'5'}", .want = ALLOW},
    {"maxkeys: equal", .id = {P_MAXKEYS}, .who = ALICE, .action = "s3:ListBucket", .res = "arn:aws:s3:::amzn-s3-demo-bucket", .ctx = "{'s3:max-keys':'10'}", .want = ALLOW},
    {"maxkeys: above", .id = {P_MAXKEYS}, .who = ALICE, .action = "s3:ListBucket", .res = "arn:aws:s3:::amzn-s3-demo-bucket", .ctx = "{'s3:max-keys':'11'}", .want = IDENY},
    {"maxkeys: absent", .id = {P_MAXKEYS}, .who = ALICE, .action = "s3:ListBucket", .res = "arn:aws:s3:::amzn-s3-demo-bucket", .want = IDENY},
    {"maxkeys: not a number", .id = {P_MAXKEYS}, .who = ALICE, .action = "s3:ListBucket", .res = "arn:aws:s3:::amzn-s3-demo-bucket", .ctx = "{'s3:max-keys':'ten'}", .want = IDENY},
    {"maxkeys: NumericLessThan is strict", .id = {P_MAXKEYS_LT}, .who = ALICE, .action = "s3:ListBucket", .res = BK, .ctx = "{'s3:max-keys':'10'}", .want = IDENY},
    {"maxkeys: NumericLessThan with a JSON number", .id = {P_MAXKEYS_LT}, .who = ALICE, .action = "s3:ListBucket", .res = BK, .ctx = "{'s3:max-keys':'9'}", .want = ALLOW},
    {"maxkeys: context given as a JSON number", .id = {P_MAXKEYS_LT}, .who = ALICE, .action = "s3:ListBucket", .res = BK, .ctx = "{'s3:max-keys':3}", .want = ALLOW},
    {"numeric: NotEquals with two values", .id = {P_NUM_NE}, .who = ALICE, .action = "s3:ListBucket", .res = BK, .ctx = "{'s3:max-keys':'50'}", .want = ALLOW},
    {"numeric: NotEquals, a listed value", .id = {P_NUM_NE}, .who = ALICE, .action = "s3:ListBucket", .res = BK, .ctx = "{'s3:max-keys':'1000'}", .want = IDENY},
    {"numeric: GreaterThanEquals", .id = {P_NUM_GE}, .who = ALICE, .action = "ec2:CreateVolume", .ctx = "{'ec2:VolumeSize':'100'}", .want = ALLOW},
    {"numeric: decimals compare as numbers", .id = {P_NUM_GE}, .who = ALICE, .action = "ec2:CreateVolume", .ctx = "{'ec2:VolumeSize':'99.5'}", .want = IDENY},

    /* -- string operators and case rules -- */
    {"ignorecase: lower", .id = {P_STR_IC}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:PrincipalTag/Dept':'engineering'}", .want = ALLOW},
    {"ignorecase: upper", .id = {P_STR_IC}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:PrincipalTag/Dept':'ENGINEERING'}", .want = ALLOW},
    {"ignorecase: different word", .id = {P_STR_IC}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:PrincipalTag/Dept':'Eng'}", .want = IDENY},
    {"stringequals: case-sensitive", .id = {P_STR_EQ_DEPT}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:PrincipalTag/Dept':'engineering'}", .want = IDENY},
    {"ignorecase: negated deny passes", .id = {ALLOW_ALL, P_STR_NOT_IC_DENY}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:PrincipalTag/Dept':'ENGINEERING'}", .want = ALLOW},
    {"ignorecase: negated deny applies", .id = {ALLOW_ALL, P_STR_NOT_IC_DENY}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:PrincipalTag/Dept':'Sales'}", .want = EDENY},
    {"stringlike: ? and *", .id = {P_STR_LIKE_Q}, .who = ALICE, .action = "s3:ListBucket", .res = BK, .ctx = "{'s3:prefix':'logs/2024/jan/'}", .want = ALLOW},
    {"stringlike: ? is exactly one", .id = {P_STR_LIKE_Q}, .who = ALICE, .action = "s3:ListBucket", .res = BK, .ctx = "{'s3:prefix':'logs/20245/jan/'}", .want = IDENY},
    {"stringnotlike: unencrypted upload denied", .id = {ALLOW_ALL, P_STR_NOTLIKE_DENY}, .who = ALICE, .action = "s3:PutObject", .res = BK "/k", .ctx = "{'s3:x-amz-server-side-encryption':'AES256'}", .want = EDENY},
    {"stringnotlike: KMS upload allowed", .id = {ALLOW_ALL, P_STR_NOTLIKE_DENY}, .who = ALICE, .action = "s3:PutObject", .res = BK "/k", .ctx = "{'s3:x-amz-server-side-encryption':'aws:kms:dsse'}", .want = ALLOW},
    {"stringnotlike: header absent, negated is true", .id = {ALLOW_ALL, P_STR_NOTLIKE_DENY}, .who = ALICE, .action = "s3:PutObject", .res = BK "/k", .want = EDENY},
    {"arnnotlike: instance of the account", .id = {ALLOW_ALL, P_ARN_NOTLIKE_DENY}, .who = ALICE, .action = "iam:PassRole", .res = "arn:aws:iam::" A1 ":role/R", .ctx = "{'iam:AssociatedResourceArn':'arn:aws:ec2:us-east-1:" A1 ":instance/i-1'}", .want = ALLOW},
    {"arnnotlike: other resource denied", .id = {ALLOW_ALL, P_ARN_NOTLIKE_DENY}, .who = ALICE, .action = "iam:PassRole", .res = "arn:aws:iam::" A1 ":role/R", .ctx = "{'iam:AssociatedResourceArn':'arn:aws:lambda:us-east-1:" A1 ":function:f'}", .want = EDENY},
    {"principalarn: a role session is its role", .id = {P_PRINCIPALARN}, .who = DEV, .action = "s3:GetObject", .res = BK "/k", .want = ALLOW},
    {"principalarn: not the assumed-role ARN", .id = {P_PRINCIPALARN_SESSION}, .who = DEV, .action = "s3:GetObject", .res = BK "/k", .want = IDENY},
    {"principalarn: a user is not a role", .id = {P_PRINCIPALARN}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .want = IDENY},
    {"principalaccount: derived from the caller", .id = {P_PRINCIPALACCOUNT}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .want = ALLOW},
    {"principaltype: AssumedRole", .id = {P_PRINCIPALTYPE}, .who = DEV, .action = "s3:GetObject", .res = BK "/k", .want = ALLOW},
    {"principaltype: a user is User", .id = {P_PRINCIPALTYPE}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .want = IDENY},
    {"username: condition on aws:username", .id = {P_USERNAME_COND}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .want = ALLOW},
    {"username: a role session has none", .id = {P_USERNAME_COND}, .who = DEV, .action = "s3:GetObject", .res = BK "/k", .want = IDENY},
    {"binary: equal base64", .id = {P_BINARY}, .who = ALICE, .action = "dynamodb:GetItem", .ctx = "{'dynamodb:Attributes':'QmluYXJ5VmFsdWU='}", .want = ALLOW},
    {"binary: different bytes", .id = {P_BINARY}, .who = ALICE, .action = "dynamodb:GetItem", .ctx = "{'dynamodb:Attributes':'QmluYXJ5VmFsdWF='}", .want = IDENY},
    {"case: condition key in capitals in the policy", .id = {P_CASE_KEY}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .ctx = "{'aws:SourceIp':'192.0.2.1'}", .want = ALLOW},
    {"case: condition key in odd case in the request", .id = {P_CASE_KEY}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .ctx = "{'Aws:sOURCEiP':'192.0.2.1'}", .want = ALLOW},
    {"case: ArnEquals values are case-sensitive", .id = {P_ARN_CASE}, .who = ALICE, .action = "sqs:SendMessage", .ctx = "{'aws:SourceArn':'arn:aws:sns:us-east-2:" A1 ":mytopic'}", .want = IDENY},

    /* -- multiple values (OR), keys and operators (AND), statements (OR) -- */
    {"or: first value", .id = {P_OR}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:RequestedRegion':'us-east-1'}", .want = ALLOW},
    {"or: second value", .id = {P_OR}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:RequestedRegion':'us-west-2'}", .want = ALLOW},
    {"or: neither", .id = {P_OR}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:RequestedRegion':'eu-west-1'}", .want = IDENY},
    {"and: both keys", .id = {P_AND_KEYS}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:RequestedRegion':'us-east-1','aws:PrincipalTag/team':'red'}", .want = ALLOW},
    {"and: only one key", .id = {P_AND_KEYS}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:RequestedRegion':'us-east-1','aws:PrincipalTag/team':'blue'}", .want = IDENY},
    {"and: two operators hold", .id = {P_AND_OPS}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:SourceIp':'192.0.2.1','aws:CurrentTime':'2025-01-01T00:00:00Z'}", .want = ALLOW},
    {"and: one operator fails", .id = {P_AND_OPS}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:SourceIp':'192.0.2.1','aws:CurrentTime':'2031-01-01T00:00:00Z'}", .want = IDENY},
    {"statements: either statement allows", .id = {P_TWO_STMTS}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'aws:RequestedRegion':'eu-west-1','aws:PrincipalTag/team':'red'}", .want = ALLOW},

    /* -- IfExists -- */
    {"ifexists: matching instance type", .id = {P_IFEXISTS}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'ec2:InstanceType':'t2.micro'}", .want = ALLOW},
    {"ifexists: other instance type", .id = {P_IFEXISTS}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'ec2:InstanceType':'c5.large'}", .want = IDENY},
    {"ifexists: actions without the key are allowed", .id = {P_IFEXISTS}, .who = ALICE, .action = "ec2:DescribeInstances", .want = ALLOW},
    {"ifexists: numeric, absent", .id = {P_NUM_IFEXISTS}, .who = ALICE, .action = "s3:ListBucket", .res = BK, .want = ALLOW},
    {"ifexists: numeric, too many", .id = {P_NUM_IFEXISTS}, .who = ALICE, .action = "s3:ListBucket", .res = BK, .ctx = "{'s3:max-keys':'1000'}", .want = IDENY},
    {"ifexists: negated, absent key", .id = {ALLOW_ALL, P_NOT_IFEXISTS_DENY}, .who = ALICE, .action = "ec2:RunInstances", .want = EDENY},
    {"ifexists: negated, allowed type", .id = {ALLOW_ALL, P_NOT_IFEXISTS_DENY}, .who = ALICE, .action = "ec2:RunInstances", .ctx = "{'ec2:InstanceType':'t2.micro'}", .want = ALLOW},

    /* -- explicit deny beats allow; implicit deny -- */
    {"deny: another policy denies", .id = {ALLOW_ALL, P_DENY_DELETEBUCKET}, .who = ALICE, .action = "s3:DeleteBucket", .res = BK, .want = EDENY, WHY(NB_AUTHZ_DENIED_EXPLICIT)},
    {"deny: order does not matter", .id = {P_DENY_S3, P_ONLY_GET}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .want = EDENY},
    {"deny: other actions still allowed", .id = {ALLOW_ALL, P_DENY_DELETEBUCKET}, .who = ALICE, .action = "s3:CreateBucket", .res = BK, .want = ALLOW},
    {"deny: identity deny beats a resource-policy allow", .id = {P_DENY_S3}, .rp = P_BUCKET_BOB, .who = BOB, .action = "s3:GetObject", .res = "arn:aws:s3:::team/k", .racct = A1, .want = EDENY},
    {"deny: resource-policy deny beats an identity allow", .id = {ALLOW_ALL}, .rp = P_BUCKET_DENY_ALL, .who = ALICE, .action = "s3:DeleteObject", .res = "arn:aws:s3:::team/k", .racct = A1, .want = EDENY},
    {"deny: condition not met, no deny", .id = {ALLOW_ALL, P_DENY_S3_COND}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .ctx = "{'aws:RequestedRegion':'us-east-1'}", .want = ALLOW},
    {"deny: condition met", .id = {ALLOW_ALL, P_DENY_S3_COND}, .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .ctx = "{'aws:RequestedRegion':'ap-south-1'}", .want = EDENY},
    {"deny: deny in a third of many policies", .id = {P_ONLY_GET, P_ONLY_PUT, P_DENY_S3, ALLOW_ALL}, .who = ALICE, .action = "s3:PutObject", .res = BK "/k", .want = EDENY},
    {"implicit: no policies at all", .who = ALICE, .action = "s3:GetObject", .res = BK "/k", .want = IDENY, WHY(NB_AUTHZ_DENIED_NO_IDENTITY)},
    {"implicit: role without policies", .who = DEV, .action = "s3:GetObject", .res = BK "/k", .want = IDENY},
    {"implicit: conditions not met", .id = {P_OR}, .who = ALICE, .action = "ec2:RunInstances", .want = IDENY},
    {"implicit: allow for another action", .id = {P_ONLY_GET}, .who = ALICE, .action = "s3:PutObject", .res = BK "/k", .want = IDENY},

    /* -- root user -- */
    {"root: everything in its own account", .who = ROOT, .action = "iam:DeleteAccountPasswordPolicy", .want = ALLOW, WHY(NB_AUTHZ_ALLOWED_AS_ROOT)},
    {"root: identity policies do not apply to it", .id = {P_DENY_S3}, .who = ROOT, .action = "s3:DeleteBucket", .res = BK, .want = ALLOW},
    {"root: own-account resource policy deny applies", .rp = P_BUCKET_DENY_ALL, .who = ROOT, .action = "s3:DeleteObject", .res = "arn:aws:s3:::team/k", .racct = A1, .want = EDENY},
    {"root: another account's resource, no policy", .who = ROOT, .action = "s3:GetObject", .res = "arn:aws:s3:::theirs/k", .racct = A4, .want = IDENY, WHY(NB_AUTHZ_DENIED_NO_RESOURCE)},
    {"root: another account's resource policy names it", .rp = P_XACCT_BUCKET, .who = XROOT, .action = "s3:GetObject", .res = "arn:aws:s3:::shared/k", .racct = A1, .want = ALLOW},
    {"root: another account's public bucket", .rp = P_PUBLIC, .who = XROOT, .action = "s3:GetObject", .res = "arn:aws:s3:::public-bucket/k", .racct = A1, .want = ALLOW},
    {"root: another account's policy naming a user", .rp = P_BUCKET_BOB, .who = XROOT, .action = "s3:GetObject", .res = "arn:aws:s3:::team/k", .racct = A1, .want = IDENY},

    /* -- anonymous callers -- */
    {"anon: no resource policy", .who = ANON, .action = "s3:GetObject", .res = BK "/k", .racct = A1, .want = IDENY, WHY(NB_AUTHZ_DENIED_NO_RESOURCE)},
    {"anon: identity policies are not its own", .id = {ALLOW_ALL}, .who = ANON, .action = "s3:GetObject", .res = BK "/k", .racct = A1, .want = IDENY},
    {"anon: a policy naming an account", .rp = P_XACCT_BUCKET, .who = ANON, .action = "s3:ListBucket", .res = "arn:aws:s3:::shared", .racct = A1, .want = IDENY},
};

/* ---------------------------------------------------------------------------------------------
 * Parser cases: documents IAM (MalformedPolicyDocument) and S3 (MalformedPolicy) refuse, with
 * their reason text, and documents they accept. code NULL: accepted.
 * ------------------------------------------------------------------------------------------- */

#define MPD "MalformedPolicyDocument"
#define MP "MalformedPolicy"
#define SYNTAX_MSG "Syntax errors in policy."
#define ST(x) "{'Version':'2012-10-17','Statement':" x "}"

static const struct parse_case PARSE_CASES[] = {
    /* accepted */
    {"ok: AdministratorAccess", NB_POLICY_IDENTITY, ALLOW_ALL},
    {"ok: one bucket", NB_POLICY_IDENTITY, P_BUCKET},
    {"ok: Statement as an object", NB_POLICY_IDENTITY, ST("{'Effect':'Allow','Action':'s3:*','Resource':'*'}")},
    {"ok: Id and Sid", NB_POLICY_IDENTITY, "{'Version':'2012-10-17','Id':'Policy1','Statement':[{'Sid':'Stmt1','Effect':'Allow','Action':'s3:*','Resource':'*'}]}"},
    {"ok: every condition operator family", NB_POLICY_IDENTITY,
     DOC("{'Effect':'Allow','Action':'*','Resource':'*','Condition':{'StringEquals':{'a:b':'x'},"
         "'StringNotEqualsIgnoreCase':{'a:c':'x'},'StringLike':{'a:d':'x*'},'NumericLessThanEquals':{'a:e':'1'},"
         "'DateGreaterThan':{'a:f':'2020-01-01T00:00:00Z'},'Bool':{'a:g':'true'},'BinaryEquals':{'a:h':'QQ=='},"
         "'IpAddress':{'a:i':'10.0.0.0/8'},'ArnLike':{'a:j':'arn:aws:s3:::*'},'Null':{'a:k':'true'},"
         "'ForAllValues:StringLikeIfExists':{'a:l':['x']},'ForAnyValue:ArnNotEquals':{'a:m':'arn:aws:s3:::b'}}}")},
    {"ok: MFA self-service", NB_POLICY_IDENTITY, P_MFA_SELF},
    {"ok: home folders", NB_POLICY_IDENTITY, P_HOME},
    {"ok: NotAction and NotResource", NB_POLICY_IDENTITY, DOC("{'Effect':'Deny','NotAction':'iam:*','NotResource':'arn:aws:s3:::b/*'}")},
    {"ok: trust with external id", NB_POLICY_TRUST, P_TRUST_EXT},
    {"ok: trust for a service", NB_POLICY_TRUST, P_TRUST_EC2},
    {"ok: trust for a web identity", NB_POLICY_TRUST, P_TRUST_GOOGLE},
    {"ok: bucket policy with NotPrincipal", NB_POLICY_RESOURCE, P_NOTPRINC},
    {"ok: bucket policy, Principal *", NB_POLICY_RESOURCE, P_BP_IP},
    {"ok: queue policy, service principal", NB_POLICY_RESOURCE, P_QUEUE_SNS},
    {"ok: session policy without Version", NB_POLICY_SESSION, "{'Statement':[{'Effect':'Allow','Action':'s3:GetObject','Resource':'*'}]}"},
    {"ok: condition values as JSON numbers and booleans", NB_POLICY_IDENTITY, P_MAXKEYS_LT},
    {"ok: deleted principal kept as its unique id", NB_POLICY_RESOURCE, DOC("{'Effect':'Allow','Principal':{'AWS':'AIDAJQABLZS4A3QDU576Q'},'Action':'s3:*','Resource':'*'}")},

    /* IAM: syntax */
    {"iam: not JSON", NB_POLICY_IDENTITY, "this is not json", MPD, SYNTAX_MSG},
    {"iam: empty document", NB_POLICY_IDENTITY, "", MPD, SYNTAX_MSG},
    {"iam: top level is an array", NB_POLICY_IDENTITY, "[]", MPD, SYNTAX_MSG},
    {"iam: no Statement", NB_POLICY_IDENTITY, "{'Version':'2012-10-17'}", MPD, SYNTAX_MSG},
    {"iam: empty Statement list", NB_POLICY_IDENTITY, ST("[]"), MPD, SYNTAX_MSG},
    {"iam: unknown top-level element", NB_POLICY_IDENTITY, "{'Version':'2012-10-17','Foo':1,'Statement':[{'Effect':'Allow','Action':'*','Resource':'*'}]}", MPD, SYNTAX_MSG},
    {"iam: unknown statement element", NB_POLICY_IDENTITY, DOC("{'Effect':'Allow','Action':'*','Resource':'*','Bogus':'x'}"), MPD, SYNTAX_MSG},
    {"iam: unknown Version", NB_POLICY_IDENTITY, "{'Version':'2012-10-18','Statement':[{'Effect':'Allow','Action':'*','Resource':'*'}]}", MPD, SYNTAX_MSG},
    {"iam: Effect missing", NB_POLICY_IDENTITY, DOC("{'Action':'*','Resource':'*'}"), MPD, SYNTAX_MSG},
    {"iam: Effect not Allow or Deny", NB_POLICY_IDENTITY, DOC("{'Effect':'Maybe','Action':'*','Resource':'*'}"), MPD, SYNTAX_MSG},
    {"iam: Effect in lower case", NB_POLICY_IDENTITY, DOC("{'Effect':'allow','Action':'*','Resource':'*'}"), MPD, "The policy failed legacy parsing"},
    {"iam: Action and NotAction together", NB_POLICY_IDENTITY, DOC("{'Effect':'Allow','Action':'*','NotAction':'s3:*','Resource':'*'}"), MPD, SYNTAX_MSG},
    {"iam: Action is a number", NB_POLICY_IDENTITY, DOC("{'Effect':'Allow','Action':5,'Resource':'*'}"), MPD, SYNTAX_MSG},
    {"iam: Condition block not an object", NB_POLICY_IDENTITY, DOC("{'Effect':'Allow','Action':'*','Resource':'*','Condition':{'StringEquals':'x'}}"), MPD, SYNTAX_MSG},
    {"iam: unknown condition operator", NB_POLICY_IDENTITY, DOC("{'Effect':'Allow','Action':'*','Resource':'*','Condition':{'StringEqualz':{'aws:username':'x'}}}"), MPD, SYNTAX_MSG},
    {"iam: NullIfExists is no operator", NB_POLICY_IDENTITY, DOC("{'Effect':'Allow','Action':'*','Resource':'*','Condition':{'NullIfExists':{'aws:username':'true'}}}"), MPD, SYNTAX_MSG},
    {"iam: condition value is an object", NB_POLICY_IDENTITY, DOC("{'Effect':'Allow','Action':'*','Resource':'*','Condition':{'StringEquals':{'aws:username':{'a':1}}}}"), MPD, SYNTAX_MSG},
    {"iam: Sid with a dash", NB_POLICY_IDENTITY, DOC("{'Sid':'my-sid','Effect':'Allow','Action':'*','Resource':'*'}"), MPD, "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"},
    /* IAM: semantics, in IAM's order */
    {"iam: duplicate Sids", NB_POLICY_IDENTITY, DOC("{'Sid':'A','Effect':'Allow','Action':'*','Resource':'*'},{'Sid':'A','Effect':'Deny','Action':'s3:*','Resource':'*'}"), MPD, "Statement IDs (SID) in a single policy must be unique."},
    {"iam: Principal in an identity policy", NB_POLICY_IDENTITY, DOC("{'Effect':'Allow','Principal':'*','Action':'*','Resource':'*'}"), MPD, "Policy document should not specify a principal."},
    {"iam: Principal in a session policy", NB_POLICY_SESSION, DOC("{'Effect':'Allow','Principal':{'AWS':'" A1 "'},'Action':'*','Resource':'*'}"), MPD, "Policy document should not specify a principal."},
    {"iam: no Action", NB_POLICY_IDENTITY, DOC("{'Effect':'Allow','Resource':'*'}"), MPD, "Policy statement must contain actions."},
    {"iam: empty Action list", NB_POLICY_IDENTITY, DOC("{'Effect':'Allow','Action':[],'Resource':'*'}"), MPD, "Policy statement must contain actions."},
    {"iam: no Resource", NB_POLICY_IDENTITY, DOC("{'Effect':'Allow','Action':'s3:*'}"), MPD, "Policy statement must contain resources."},
    {"iam: action without a vendor", NB_POLICY_IDENTITY, DOC("{'Effect':'Allow','Action':'GetObject','Resource':'*'}"), MPD, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
    {"iam: action with two colons", NB_POLICY_IDENTITY, DOC("{'Effect':'Allow','Action':'s3:Get:Object','Resource':'*'}"), MPD, "Actions/Condition can contain only one colon."},
    {"iam: vendor with a bad character", NB_POLICY_IDENTITY, DOC("{'Effect':'Allow','Action':'s3!:GetObject','Resource':'*'}"), MPD, "Vendor s3! is not valid"},
    {"iam: resource not an ARN", NB_POLICY_IDENTITY, DOC("{'Effect':'Allow','Action':'s3:*','Resource':'bucket'}"), MPD, "Resource bucket must be in ARN format or \"*\"."},
    {"iam: IAM resource with a Region", NB_POLICY_IDENTITY, DOC("{'Effect':'Allow','Action':'iam:*','Resource':'arn:aws:iam:us-east-1:" A1 ":user/x'}"), MPD, "IAM resource arn:aws:iam:us-east-1:" A1 ":user/x cannot contain region information."},
    {"iam: S3 resource with a Region", NB_POLICY_IDENTITY, DOC("{'Effect':'Allow','Action':'s3:*','Resource':'arn:aws:s3:us-east-1::bucket'}"), MPD, "Resource arn:aws:s3:us-east-1::bucket can not contain region information."},
    {"iam: IAM resource with an unknown type", NB_POLICY_IDENTITY, DOC("{'Effect':'Allow','Action':'iam:*','Resource':'arn:aws:iam::" A1 ":gadget/x'}"), MPD, "IAM resource path must either be \"*\" or start with user/, federated-user/, role/, group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, report/, access-report/."},
    {"iam: unknown partition", NB_POLICY_IDENTITY, DOC("{'Effect':'Allow','Action':'s3:*','Resource':'arn:awz:s3:::b'}"), MPD, "Partition \"awz\" is not valid for resource \"arn:awz:s3:::b\"."},
    {"iam: date condition that is no date", NB_POLICY_IDENTITY, DOC("{'Effect':'Allow','Action':'*','Resource':'*','Condition':{'DateGreaterThan':{'aws:CurrentTime':'yesterday'}}}"), MPD, "The policy failed legacy parsing"},
    {"iam: identity policy without Version", NB_POLICY_IDENTITY, "{'Statement':[{'Effect':'Allow','Action':'*','Resource':'*'}]}", MPD, "Policy document must be version 2012-10-17 or greater."},
    /* IAM: trust policies */
    {"trust: Resource is prohibited", NB_POLICY_TRUST, DOC("{'Effect':'Allow','Principal':{'Service':'ec2.amazonaws.com'},'Action':'sts:AssumeRole','Resource':'*'}"), MPD, "Has prohibited field Resource."},
    {"trust: Principal is required", NB_POLICY_TRUST, DOC("{'Effect':'Allow','Action':'sts:AssumeRole'}"), MPD, "Missing required field Principal"},
    {"trust: wildcard in a principal ARN", NB_POLICY_TRUST, DOC("{'Effect':'Allow','Principal':{'AWS':'arn:aws:iam::" A1 ":user/*'},'Action':'sts:AssumeRole'}"), MPD, "Invalid principal in policy: \"AWS\":\"arn:aws:iam::" A1 ":user/*\""},
    {"trust: service principal that is no service", NB_POLICY_TRUST, DOC("{'Effect':'Allow','Principal':{'Service':'ec2'},'Action':'sts:AssumeRole'}"), MPD, "Invalid principal in policy: \"SERVICE\":\"ec2\""},
    {"trust: account id of 11 digits", NB_POLICY_TRUST, DOC("{'Effect':'Allow','Principal':{'AWS':'11112222333'},'Action':'sts:AssumeRole'}"), MPD, "Invalid principal in policy: \"AWS\":\"11112222333\""},
    {"trust: actions other than sts", NB_POLICY_TRUST, DOC("{'Effect':'Allow','Principal':{'AWS':'" A4 "'},'Action':'s3:GetObject'}"), MPD, "Trust Policy statement actions can only be sts:AssumeRole, sts:AssumeRoleWithSAML,  and sts:AssumeRoleWithWebIdentity"},
    /* S3 bucket policies */
    {"s3: not JSON", NB_POLICY_RESOURCE, "nope", MP, "Policies must be valid JSON and the first byte must be '{'"},
    {"s3: Principal required", NB_POLICY_RESOURCE, DOC("{'Effect':'Allow','Action':'s3:GetObject','Resource':'arn:aws:s3:::b/*'}"), MP, "Missing required field Principal"},
    {"s3: action without a vendor", NB_POLICY_RESOURCE, DOC("{'Effect':'Allow','Principal':'*','Action':'GetObject','Resource':'arn:aws:s3:::b/*'}"), MP, "Policy has invalid action"},
    {"s3: resource not an ARN", NB_POLICY_RESOURCE, DOC("{'Effect':'Allow','Principal':'*','Action':'s3:GetObject','Resource':'b/*'}"), MP, "Policy has invalid resource"},
    {"s3: principal that is no ARN", NB_POLICY_RESOURCE, DOC("{'Effect':'Allow','Principal':{'AWS':'bob'},'Action':'s3:GetObject','Resource':'arn:aws:s3:::b/*'}"), MP, "Invalid principal in policy"},
    {"s3: Effect in lower case", NB_POLICY_RESOURCE, DOC("{'Effect':'allow','Principal':'*','Action':'s3:GetObject','Resource':'arn:aws:s3:::b/*'}"), MP, "Invalid effect: allow"},
    {"s3: Action missing", NB_POLICY_RESOURCE, DOC("{'Effect':'Allow','Principal':'*','Resource':'arn:aws:s3:::b/*'}"), MP, "Missing required field Action"},
    {"s3: Resource missing", NB_POLICY_RESOURCE, DOC("{'Effect':'Allow','Principal':'*','Action':'s3:GetObject'}"), MP, "Missing required field Resource"},
};
/* clang-format on */
