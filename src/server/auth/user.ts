// Who a request is from, once authenticated (k8s.io/apiserver/pkg/authentication/user.Info).

/** An authenticated user: name, uid and groups, as the API server's authenticators give them. */
export interface UserInfo {
  name: string;
  uid: string;
  groups: string[];
}

/** The user of a request without credentials when anonymous requests are allowed (user.Anonymous). */
export const ANONYMOUS_USER = 'system:anonymous';

/** The group of anonymous requests (user.AllUnauthenticated). */
export const UNAUTHENTICATED_GROUP = 'system:unauthenticated';

/** The group every authenticated user is added to (user.AllAuthenticated, group.NewAuthenticatedGroupAdder). */
export const AUTHENTICATED_GROUP = 'system:authenticated';
